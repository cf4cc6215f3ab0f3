using System.Collections.ObjectModel;
using System.ComponentModel;
using System.Globalization;

namespace DistLock;

/// <summary>
/// StackExchange.Redis configuration strings, one per Redlock node (<see cref="DistLockSettings.Redis"/>).
/// Configuration may give a list or, for one node, a plain string.
/// </summary>
[TypeConverter(typeof(OneStringConverter))]
public sealed class RedisConfigurations : Collection<string>
{
    /// <summary>
    /// Reads <c>"Redis": "host:6379"</c> as a list of one. ConfigurationBinder asks a property's type
    /// for its converter; this type exists so that the converter is DistLock's alone.
    /// </summary>
    private sealed class OneStringConverter : TypeConverter
    {
        public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) => sourceType == typeof(string);

        public override object ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) => new RedisConfigurations { (string)value };
    }
}
