using System.Runtime.CompilerServices;
using DistLock.Algorithm;
using DistLock.Transport;
using StackExchange.Redis;

namespace DistLock;

/// <summary>Reads and clears locks for operators: status, listing (SCAN, never KEYS) and forced release.</summary>
internal sealed class LockInspector
{
    private readonly IReadOnlyList<ScriptNode> _nodes;
    private readonly string[] _nodeNames;
    private readonly LockKeyLayout _keys;
    private readonly TimeSpan _timeout;

    public LockInspector(IReadOnlyList<ScriptNode> nodes, LockKeyLayout keys, TimeSpan timeout)
    {
        _nodes = nodes;
        _nodeNames = [.. nodes.Select(n => n.Name)];
        _keys = keys;
        _timeout = timeout;
    }

    public async Task<LockInfo> InspectAsync(string resource, CancellationToken cancellationToken)
    {
        var key = _keys.LockKey(resource);
        var answers = await OnEveryNodeAsync(node => InspectLockAsync(node, key), "inspect", key, cancellationToken).ConfigureAwait(false);
        var holders = answers.Where(a => a.Value is not null).GroupBy(a => a.Value).OrderByDescending(g => g.Count()).FirstOrDefault();
        var quorum = LockValidity.QuorumSize(_nodes.Count);
        var ttls = holders?.Where(a => a.PttlMs >= 0).Select(a => a.PttlMs).ToList();
        var readLocked = holders?.Key == LockKeyLayout.ReadersMarker;

        // A reader holds while a majority of the nodes hold its lease.
        var readers = readLocked
            ? answers.SelectMany(a => a.Readers).GroupBy(r => r.Id)
                .Where(g => g.Count() >= quorum)
                .Select(g => new LockHolder(g.Key, KeptByMajority(g.Select(r => r.LeftMs).ToList(), quorum)))
                .OrderBy(r => r.RemainingTtl)
                .ToList()
            : [];
        var handingOver = holders?.Key?.StartsWith(LockKeyLayout.ReservedPrefix, StringComparison.Ordinal) == true && readers.Count == 0;
        return new LockInfo(
            resource,
            key,
            readLocked || handingOver ? null : holders?.Key, // a reservation names a waiting queue, not a holder
            handingOver ? 1 : 0,
            ttls is { Count: > 0 } ? KeptByMajority(ttls, quorum) : null,
            answers.Max(a => a.Fence),
            answers.Max(a => a.Waiters),
            holders?.Count() ?? 0)
        {
            Readers = readers,
        };
    }

    /// <summary>
    /// How long a hold lasts given what each node has left of it: until fewer than a majority keep it,
    /// the <paramref name="quorum"/>-th longest. A node whose copy ends sooner (a straggler still
    /// being extended, a restarted node) frees nothing, since no one else can reach a majority before
    /// the others end. With fewer copies than a majority, the shortest.
    /// </summary>
    private static TimeSpan KeptByMajority(List<long> leftMs, int quorum)
    {
        leftMs.Sort();
        return TimeSpan.FromMilliseconds(leftMs[Math.Max(0, leftMs.Count - quorum)]);
    }

    /// <summary>The semaphore <paramref name="resource"/> on its one deployment (semaphores are refused over several).</summary>
    public async Task<SemaphoreInfo> InspectSemaphoreAsync(string resource, CancellationToken cancellationToken)
    {
        var key = SemaphoreKeyOnOneDeployment(resource);
        var answer = (await OnEveryNodeAsync(node => InspectSemaphoreAsync(node, key), "inspect semaphore", key, cancellationToken).ConfigureAwait(false))[0];
        return SemaphoreInfo.From(
            resource, key, answer.Limit, answer.Entries.Select(e => (e.Id, TimeSpan.FromMilliseconds(e.RemainingMs))), answer.Waiters, answer.Fence);
    }

    /// <summary>
    /// The locks whose resource matches the glob <paramref name="pattern"/>, each once, found with
    /// SCAN on every node (every primary of a cluster) and matched by name: a tagged name's key is
    /// not the name (see <see cref="LockKeyLayout.ScanPattern"/>). Each page is bounded by the node timeout; a
    /// node that fails is left out while a majority remains (each lock is on a majority), else the
    /// listing ends with a <see cref="LockBackendException"/>.
    /// </summary>
    public async IAsyncEnumerable<LockInfo> ListAsync(string pattern, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var names = new RedisGlob(pattern);
        var scan = _keys.ScanPattern(names);
        var failed = 0;
        Exception? firstError = null;
        foreach (var node in _nodes)
        {
            var keys = new List<string>();
            try
            {
                await foreach (var key in node.KeysAsync(scan, _timeout, cancellationToken).ConfigureAwait(false))
                {
                    keys.Add(key);
                }
            }
            catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException or IOException or ObjectDisposedException && !cancellationToken.IsCancellationRequested)
            {
                failed++;
                firstError ??= ex;
                if (_nodes.Count - failed < LockValidity.QuorumSize(_nodes.Count))
                {
                    throw LockBackendException.NodesFailed("list locks", _nodeNames, failed, firstError);
                }

                continue;
            }

            foreach (var key in keys)
            {
                if (_keys.ResourceOf(key) is { } resource && names.IsMatch(resource) && seen.Add(resource))
                {
                    yield return await InspectAsync(resource, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    public async Task<bool> ForceReleaseAsync(string resource, CancellationToken cancellationToken)
    {
        var key = _keys.LockKey(resource);
        var notice = ReleaseNotice.New("forced");
        var deleted = await OnEveryNodeAsync(
            async node => (long)await node.EvaluateAsync(LockScript.ForceRelease, LockKeyLayout.LockKeys(key), node.LineArgs(notice)).ConfigureAwait(false),
            "force-release",
            key,
            cancellationToken).ConfigureAwait(false);
        return deleted.Any(d => d == 1);
    }

    /// <summary>Frees the permit of <paramref name="holderId"/>, or every holder's when null; returns how many were freed.</summary>
    public async Task<int> ForceReleaseSemaphoreAsync(string resource, string? holderId, CancellationToken cancellationToken)
    {
        var key = SemaphoreKeyOnOneDeployment(resource);
        var notice = ReleaseNotice.New("forced");
        var freed = await OnEveryNodeAsync(
            async node => (int)await node.EvaluateAsync(LockScript.ForceReleaseSemaphore, LockKeyLayout.SemaphoreKeys(key), node.LineArgs(notice, holderId ?? string.Empty)).ConfigureAwait(false),
            "force-release semaphore",
            key,
            cancellationToken).ConfigureAwait(false);
        return freed[0];
    }

    /// <summary>The lock's state on one node: value, PTTL, fencing counter, waiters, readers with what is left of their leases.</summary>
    private static async Task<(string? Value, long PttlMs, long Fence, int Waiters, IReadOnlyList<(string Id, long LeftMs)> Readers)> InspectLockAsync(ScriptNode node, string key)
    {
        var reply = (RedisResult[])(await node.EvaluateAsync(LockScript.Inspect, LockKeyLayout.LockKeys(key), []).ConfigureAwait(false))!;
        var leases = (RedisResult[])reply[4]!;
        var readers = new List<(string, long)>(leases.Length / 2);
        for (var i = 0; i + 1 < leases.Length; i += 2)
        {
            readers.Add(((string)leases[i]!, (long)leases[i + 1]));
        }

        return ((string?)reply[0], (long)reply[1], reply[2].IsNull ? 0 : (long)reply[2], (int)reply[3], readers);
    }

    /// <summary>The semaphore's state on one node: limit (0 without holders), live entries with their time left, waiters, fencing counter.</summary>
    private static async Task<(int Limit, IReadOnlyList<(string Id, long RemainingMs)> Entries, int Waiters, long Fence)> InspectSemaphoreAsync(ScriptNode node, string key)
    {
        var reply = (RedisResult[])(await node.EvaluateAsync(LockScript.InspectSemaphore, LockKeyLayout.SemaphoreKeys(key), []).ConfigureAwait(false))!;
        var live = (RedisResult[])reply[1]!;
        var entries = new List<(string, long)>(live.Length / 2);
        for (var i = 0; i + 1 < live.Length; i += 2)
        {
            entries.Add(((string)live[i]!, (long)live[i + 1]));
        }

        return (reply[0].IsNull ? 0 : (int)reply[0], entries, (int)reply[2], reply[3].IsNull ? 0 : (long)reply[3]);
    }

    private string SemaphoreKeyOnOneDeployment(string resource)
    {
        if (_nodes.Count > 1)
        {
            throw new NotSupportedException("Semaphores need one Redis deployment; this manager has several independent masters (Redlock). See docs/redlock.md.");
        }

        return _keys.SemaphoreKey(resource);
    }

    /// <summary>How many nodes answer a PING within the timeout.</summary>
    public async Task<QuorumStatus> PingAsync(CancellationToken cancellationToken)
    {
        var pings = await CallEveryNodeAsync(node => node.PingAsync(), cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return new QuorumStatus(_nodes.Count, pings.Count(p => p.IsCompletedSuccessfully));
    }

    /// <summary>Runs a command on every node; the nodes that fail are left out unless too many fail for a majority.</summary>
    private async Task<List<T>> OnEveryNodeAsync<T>(Func<ScriptNode, Task<T>> command, string operation, string key, CancellationToken cancellationToken)
    {
        var calls = await CallEveryNodeAsync(command, cancellationToken).ConfigureAwait(false);
        var answered = calls.Where(c => c.IsCompletedSuccessfully).Select(c => c.Result).ToList();
        if (answered.Count < LockValidity.QuorumSize(_nodes.Count))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var error = calls.FirstOrDefault(c => c.IsFaulted)?.Exception?.InnerException;
            throw LockBackendException.NodesFailed($"{operation} lock '{key}'", _nodeNames, _nodes.Count - answered.Count, error);
        }

        return answered;
    }

    /// <summary>Sends a command to every node, each bounded by the timeout; returns the calls, all finished.</summary>
    private async Task<List<Task<T>>> CallEveryNodeAsync<T>(Func<ScriptNode, Task<T>> command, CancellationToken cancellationToken)
    {
        var calls = _nodes.Select(node => command(node).WaitAsync(_timeout, cancellationToken)).ToList();
        try
        {
            await Task.WhenAll(calls).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Judged by the caller, node by node: a node that failed or timed out did not answer.
        }

        return calls;
    }
}
