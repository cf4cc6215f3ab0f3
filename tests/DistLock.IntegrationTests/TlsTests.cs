using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DistLock.IntegrationTests.Fixtures;
using DistLock.RedisRig;
using StackExchange.Redis;

namespace DistLock.IntegrationTests;

/// <summary>
/// A redis-server with TLS on, certificates made by the test (a CA and a server certificate for
/// localhost): validated connections work, locks and wakes included; an untrusted certificate
/// fails closed with a LockBackendException.
/// </summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("distlock-tls-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task TrustedCertificate_LocksAndWakesWorkOverTls()
    {
        var (server, tlsPort) = await StartTlsServerAsync();
        await using var _ = server;
        var options = ConfigurationOptions.Parse($"127.0.0.1:{tlsPort},ssl=true,sslHost=localhost");
        options.TrustIssuer(Path.Combine(_directory, "ca.crt"));
        await using var first = await ConnectionMultiplexer.ConnectAsync(options);
        await using var second = await ConnectionMultiplexer.ConnectAsync(options);
        // HandoffGrace 1 s, the grace these cases had when it was RetryDelay capped at 1 s: a woken waiter
        // takes its turn within it on a loaded machine, where the 50 ms default was seen to run out.
        var patient = new RedisLockManagerOptions { HandoffGrace = TimeSpan.FromSeconds(1), Defaults = { RetryDelay = TimeSpan.FromSeconds(10) } };
        await using var holder = new RedisLockManager(first, patient);
        await using var waiter = new RedisLockManager(second, patient);

        var held = await holder.AcquireAsync("tls");
        var waiting = waiter.AcquireAsync("tls", TimeSpan.FromSeconds(20));
        Assert.True(await Eventually.TrueWithinAsync(Eventually.Patience, async () => (await holder.InspectAsync("tls")).Waiters >= 1), "the waiter never joined the line");
        await held.ReleaseAsync();
        await using var next = await waiting;

        Assert.True(next.AcquireDelay < TimeSpan.FromSeconds(8), $"woken after {next.AcquireDelay}"); // before the 10 s retry
    }

    [Fact]
    public async Task UntrustedCertificate_FailsClosed_WithLockBackendException()
    {
        var (server, tlsPort) = await StartTlsServerAsync();
        await using var _ = server;

        // The test CA is not in the machine's trust store.
        var error = await Assert.ThrowsAsync<LockBackendException>(() =>
            RedisLockManager.ConnectAsync($"127.0.0.1:{tlsPort},ssl=true,sslHost=localhost,connectTimeout=5000")); // the client may hold the refused handshake until this timeout, and name it only later (RedisConnector.ProbeAsync)

        Assert.Contains(tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains("certificate", StringComparison.OrdinalIgnoreCase) || error.Message.Contains("Authentication", StringComparison.OrdinalIgnoreCase), error.Message);
    }

    private async Task<(RedisServer Server, int TlsPort)> StartTlsServerAsync()
    {
        WriteCertificates();
        var tlsPort = LoopbackPorts.Free();
        var server = await RedisServer.StartAsync(
            "--tls-port", tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tls-cert-file", Path.Combine(_directory, "server.crt"),
            "--tls-key-file", Path.Combine(_directory, "server.key"),
            "--tls-ca-cert-file", Path.Combine(_directory, "ca.crt"),
            "--tls-auth-clients", "no");
        return (server, tlsPort);
    }

    /// <summary>A throwaway CA and a server certificate for localhost and 127.0.0.1, as PEM files.</summary>
    private void WriteCertificates()
    {
        var now = TimeProvider.System.GetUtcNow();
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=DistLock Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(2));

        using var serverKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.Create(ca, now.AddDays(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(8));

        File.WriteAllText(Path.Combine(_directory, "ca.crt"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_directory, "server.crt"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_directory, "server.key"), serverKey.ExportPkcs8PrivateKeyPem());
    }
}
