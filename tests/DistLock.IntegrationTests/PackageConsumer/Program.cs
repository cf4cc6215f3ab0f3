using DistLock;

// Takes, extends and releases one lock; exits 0 only when each step did what it should.
await using var locks = await RedisLockManager.ConnectAsync(args[0]);
await using var handle = await locks.AcquireAsync("net8-consumer", TimeSpan.FromSeconds(10));
Console.WriteLine($"acquired {(await handle.GetFencingTokenAsync())} on {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
if (!await handle.ExtendAsync(TimeSpan.FromSeconds(20)))
{
    return 2;
}

Console.WriteLine("extended");
if (!await handle.ReleaseAsync())
{
    return 3;
}

Console.WriteLine("released");
return 0;
