using System.ComponentModel.DataAnnotations;

namespace DistLock;

/// <summary>
/// The invalid settings found by one check, each named as configuration names it
/// (<c>"Defaults.Ttl"</c>), so that every rule is written once and reported alike by
/// <c>Validate()</c>, by <see cref="IValidatableObject"/> and by the managers' constructors.
/// </summary>
internal sealed class OptionProblems(string path)
{
    private readonly List<(string Option, string Message)> _items = [];

    public int Count => _items.Count;

    public void Add(string option, string? message)
    {
        if (message is not null)
        {
            _items.Add((path + option, message));
        }
    }

    public void Add(OptionProblems more) => _items.AddRange(more._items);

    /// <summary>Every message, in one sentence list.</summary>
    public string Describe() => string.Join(" ", _items.Select(i => i.Message));

    /// <exception cref="ArgumentException">Names the first invalid setting as its parameter.</exception>
    public static void ThrowIfAny(OptionProblems problems)
    {
        if (problems.Count > 0)
        {
            throw new ArgumentException(problems.Describe(), problems._items[0].Option);
        }
    }

    public static IEnumerable<ValidationResult> AsResults(OptionProblems problems) =>
        problems._items.Select(i => new ValidationResult(i.Message, [i.Option]));
}
