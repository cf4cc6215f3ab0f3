using System.Globalization;

namespace DistLock.RedisRig;

/// <summary>One line of CLUSTER NODES: id, address, flags, primary, and the slot ranges served.</summary>
internal sealed record ClusterNodeLine(string Id, int Port, IReadOnlyList<string> Flags, string? PrimaryId, IReadOnlyList<(int First, int Last)> Slots)
{
    public bool Serves(int slot) => Slots.Any(r => r.First <= slot && slot <= r.Last);

    // <id> <ip:port@cport> <flags> <primary> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot> <slot> ...
    public static ClusterNodeLine Parse(string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var address = fields[1].Split('@')[0];
        var port = int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
        var slots = new List<(int, int)>();
        foreach (var range in fields.Skip(8))
        {
            if (range.StartsWith('['))
            {
                continue; // a slot being imported or migrated
            }

            var bounds = range.Split('-');
            var first = int.Parse(bounds[0], CultureInfo.InvariantCulture);
            slots.Add((first, bounds.Length > 1 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) : first));
        }

        return new ClusterNodeLine(fields[0], port, fields[2].Split(','), fields[3] == "-" ? null : fields[3], slots);
    }
}
