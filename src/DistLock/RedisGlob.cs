using System.Text;

namespace DistLock;

/// <summary>
/// A glob as Redis reads one (KEYS, SCAN MATCH): <c>*</c> any run of characters, <c>?</c> one
/// character, <c>[abc]</c>, <c>[a-z]</c> or <c>[^abc]</c> one character in the set (or not in it),
/// and <c>\</c> takes the next character as itself, in a set too. Where Redis is lenient, so is this:
/// a set not closed runs to the end of the pattern, a range given backwards (<c>[z-a]</c>) is the same
/// range, and a <c>\</c> at the very end is itself. Redis compares bytes; this compares characters
/// (Unicode code points), so <c>?</c> is one character of a name however many bytes it takes.
/// </summary>
/// <remarks>
/// It matches resource names where a SCAN pattern cannot (see <see cref="Transport.LockKeyLayout.ScanPattern"/>),
/// and the in-memory keyspace's KEYS.
/// </remarks>
internal sealed class RedisGlob
{
    private readonly Token[] _tokens;

    public RedisGlob(string pattern)
    {
        _tokens = Parse(CodePoints(pattern));
        var literal = _tokens.TakeWhile(t => t.Kind == Kind.Literal).ToList();
        IsLiteral = literal.Count == _tokens.Length;
        var prefix = new StringBuilder();
        foreach (var token in literal)
        {
            prefix.Append(char.ConvertFromUtf32(token.From));
        }

        LiteralPrefix = prefix.ToString();
    }

    /// <summary>What every matching text starts with: the pattern up to its first wildcard, escapes read.</summary>
    public string LiteralPrefix { get; }

    /// <summary>True when the pattern has no wildcard: it matches <see cref="LiteralPrefix"/> only.</summary>
    public bool IsLiteral { get; }

    public bool IsMatch(string text)
    {
        var s = CodePoints(text);

        // Every token but '*' takes one character, so on a mismatch only the last '*' seen needs to
        // take one more: greedy with one backtrack point, linear in most patterns, never exponential.
        int t = 0, i = 0, star = -1, starFrom = 0;
        while (i < s.Length)
        {
            if (t < _tokens.Length && _tokens[t].Kind == Kind.Star)
            {
                star = t++;
                starFrom = i;
            }
            else if (t < _tokens.Length && _tokens[t].Matches(s[i]))
            {
                t++;
                i++;
            }
            else if (star >= 0)
            {
                t = star + 1;
                i = ++starFrom;
            }
            else
            {
                return false;
            }
        }

        while (t < _tokens.Length && _tokens[t].Kind == Kind.Star)
        {
            t++;
        }

        return t == _tokens.Length;
    }

    private static Token[] Parse(int[] p)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < p.Length)
        {
            switch (p[i])
            {
                case '*':
                    if (tokens.Count == 0 || tokens[^1].Kind != Kind.Star)
                    {
                        tokens.Add(new Token(Kind.Star));
                    }

                    i++;
                    break;
                case '?':
                    tokens.Add(new Token(Kind.Any));
                    i++;
                    break;
                case '[':
                    tokens.Add(ParseSet(p, ref i));
                    break;
                case '\\' when i + 1 < p.Length:
                    tokens.Add(Token.Literal(p[i + 1]));
                    i += 2;
                    break;
                default:
                    tokens.Add(Token.Literal(p[i]));
                    i++;
                    break;
            }
        }

        return [.. tokens];
    }

    /// <summary>A set from the '[' at <paramref name="i"/> to past its ']' (or the end of the pattern).</summary>
    private static Token ParseSet(int[] p, ref int i)
    {
        i++;
        var negated = i < p.Length && p[i] == '^';
        if (negated)
        {
            i++;
        }

        var ranges = new List<(int From, int To)>();
        while (i < p.Length && p[i] != ']')
        {
            if (p[i] == '\\' && i + 1 < p.Length)
            {
                ranges.Add((p[i + 1], p[i + 1]));
                i += 2;
            }
            else if (i + 2 < p.Length && p[i + 1] == '-')
            {
                // As Redis: the range's end may be ']' itself, and a reversed range is swapped.
                ranges.Add((Math.Min(p[i], p[i + 2]), Math.Max(p[i], p[i + 2])));
                i += 3;
            }
            else
            {
                ranges.Add((p[i], p[i]));
                i++;
            }
        }

        i++; // past the ']', or the end
        return new Token(Kind.Set, Ranges: [.. ranges], Negated: negated);
    }

    private static int[] CodePoints(string text) => [.. text.EnumerateRunes().Select(r => r.Value)];

    private enum Kind
    {
        Literal,
        Any,
        Star,
        Set,
    }

    private readonly record struct Token(Kind Kind, int From = 0, (int From, int To)[]? Ranges = null, bool Negated = false)
    {
        public static Token Literal(int c) => new(Kind.Literal, c);

        public bool Matches(int c) => Kind switch
        {
            Kind.Literal => c == From,
            Kind.Any => true,
            Kind.Set => Array.Exists(Ranges!, r => c >= r.From && c <= r.To) != Negated,
            _ => false,
        };
    }
}
