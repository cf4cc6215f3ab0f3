using Lua;
using Lua.Runtime;
using Lua.Standard;
using StackExchange.Redis;

namespace DistLock.Transport;

/// <summary>
/// Runs the scripts themselves, the very text Redis runs, on a <see cref="MemoryKeyspace"/>: a Lua
/// interpreter (Lua-CSharp, fully managed) whose <c>redis.call</c> passes each command to the
/// keyspace and hands back its answer as Redis converts a reply for Lua, and whose result reaches
/// the caller as Redis converts a script's result. So the in-memory node has no rules of its own.
/// Not thread-safe, as the keyspace.
/// </summary>
internal sealed class ScriptRunner
{
    private readonly LuaState _lua = LuaState.Create();
    private readonly MemoryKeyspace _keyspace;
    private readonly Dictionary<LockScript, LuaClosure> _compiled = [];

    public ScriptRunner(MemoryKeyspace keyspace)
    {
        _keyspace = keyspace;
        _lua.OpenBasicLibrary();
        _lua.OpenMathLibrary();
        _lua.OpenStringLibrary();
        _lua.OpenTableLibrary();
        _lua.Environment["redis"] = new LuaTable
        {
            ["call"] = new LuaFunction("call", (context, _) => new(context.Return(Call(context)))),
            ["error_reply"] = new LuaFunction("error_reply", (context, _) => new(context.Return(new LuaTable { ["err"] = context.GetArgument(0) }))),
            ["replicate_commands"] = new LuaFunction("replicate_commands", (context, _) => new(context.Return(true))),

            // As Redis 7.0, the oldest server whose scripts the emulation follows.
            ["REDIS_VERSION_NUM"] = 0x070000,
        };
    }

    public RedisResult Run(LockScript script, RedisKey[] keys, RedisValue[] args)
    {
        if (!_compiled.TryGetValue(script, out var chunk))
        {
            _compiled[script] = chunk = _lua.Load(script.Text, script.Name);
        }

        _lua.Environment["KEYS"] = Table(keys.Select(k => (LuaValue)(string)k!));
        _lua.Environment["ARGV"] = Table(args.Select(a => (LuaValue)(string)a!));

        // Nothing the scripts call waits, so the run is over when ExecuteAsync returns.
        var run = _lua.ExecuteAsync(chunk);
        var results = run.IsCompleted ? run.Result : throw new InvalidOperationException($"{script.Name} did not finish at once.");
        return results.Length == 0 ? Reply(LuaValue.Nil) : Reply(results[0]);
    }

    /// <summary>redis.call: numbers go as Redis writes them, and the answer comes back as Redis gives it to Lua.</summary>
    private LuaValue Call(LuaFunctionExecutionContext context)
    {
        var command = new string[context.ArgumentCount];
        for (var i = 0; i < command.Length; i++)
        {
            var argument = context.GetArgument(i);
            command[i] = argument.TryRead<double>(out var number) && argument.Type == LuaValueType.Number
                ? MemoryKeyspace.Format(number)
                : argument.TryRead<string>(out var text) ? text : throw new LuaRuntimeException(context.State, "Lua redis lib command arguments must be strings or integers");
        }

        return ToLua(_keyspace.Execute(command));
    }

    private static LuaValue ToLua(object? reply) => reply switch
    {
        null => false,
        string text => text,
        long number => number,
        object[] list => Table(list.Select(ToLua)),
        _ => new LuaTable { ["ok"] = "OK" },
    };

    /// <summary>Lua to Redis: a number is an integer (truncated), true is 1, false and nil are nil, a table an array up to its first nil.</summary>
    private static RedisResult Reply(LuaValue value)
    {
        switch (value.Type)
        {
            case LuaValueType.Number:
                return RedisResult.Create((long)value.Read<double>(), ResultType.Integer);
            case LuaValueType.String:
                return RedisResult.Create((RedisValue)value.Read<string>());
            case LuaValueType.Boolean when value.Read<bool>():
                return RedisResult.Create(1, ResultType.Integer);
            case LuaValueType.Table when value.Read<LuaTable>()["err"] is { Type: LuaValueType.String } error:
                throw new InvalidOperationException(error.Read<string>());
            case LuaValueType.Table:
                var table = value.Read<LuaTable>();
                var items = new List<RedisResult>();
                for (var i = 1; table[i].Type != LuaValueType.Nil; i++)
                {
                    items.Add(Reply(table[i]));
                }

                return RedisResult.Create([.. items]);
            default:
                return RedisResult.Create(RedisValue.Null);
        }
    }

    private static LuaTable Table(IEnumerable<LuaValue> items)
    {
        var table = new LuaTable();
        var i = 0;
        foreach (var item in items)
        {
            table[++i] = item;
        }

        return table;
    }
}
