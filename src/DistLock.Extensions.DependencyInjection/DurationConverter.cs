using System.ComponentModel;
using System.Globalization;

namespace DistLock;

/// <summary>
/// Lets ConfigurationBinder read DistLock's durations (<c>250ms</c>, <c>10s</c>, <c>1m30s</c>,
/// <c>hh:mm:ss</c>: src/Shared/DurationText.cs, as the distlock tool reads them). The binder takes a
/// TimeSpan's converter from TypeDescriptor, which only registers one for the whole process; so this
/// one reads DistLock's syntax only while <see cref="While"/> binds DistLock's section, and reads
/// every other TimeSpan with the converter it replaced (the standard one, unless the application
/// registered its own): the application's other settings read as they did.
/// </summary>
internal sealed class DurationConverter : TimeSpanConverter
{
    private static readonly TypeConverter Replaced = Register();

    // Binding is synchronous, so the thread that binds DistLock's section is the one that converts its values.
    [ThreadStatic]
    private static bool t_binding;

    /// <summary>Runs <paramref name="bind"/> with DistLock's syntax on for the TimeSpans it reads.</summary>
    public static void While(Action bind)
    {
        GC.KeepAlive(Replaced); // registered before the first binding reads a TimeSpan
        var outer = t_binding;
        t_binding = true;
        try
        {
            bind();
        }
        finally
        {
            t_binding = outer;
        }
    }

    /// <exception cref="FormatException">Not a duration; the message says why (<c>'30' needs a unit: 30s, 30ms...</c>).</exception>
    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value) =>
        t_binding && value is string text
            ? DurationText.TryParse(text, allowInfinite: true, out var error) ?? throw new FormatException(error)
            : Replaced.ConvertFrom(context, culture, value);

    private static TypeConverter Register()
    {
        var replaced = TypeDescriptor.GetConverter(typeof(TimeSpan));
        TypeDescriptor.AddAttributes(typeof(TimeSpan), new TypeConverterAttribute(typeof(DurationConverter)));
        return replaced;
    }
}
