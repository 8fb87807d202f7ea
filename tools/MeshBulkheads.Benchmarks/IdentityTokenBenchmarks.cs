using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using MeshBulkheads.Contracts.Identity;

namespace MeshBulkheads.Benchmarks;

/// <summary>
/// What the identity token costs per call (issue 15's aim: under 2 µs per verification): a service's
/// <see cref="MeshIdentityToken.Verify"/> and the gateway's <see cref="MeshIdentityToken.Mint"/>, against one bare
/// HMAC-SHA256 of the same signed bytes with a reused keyed instance as the baseline (the least any signed token costs),
/// and the one-shot <see cref="HMACSHA256.HashData(byte[], byte[])"/> (what each call cost before the token cached its
/// instances: OpenSSL sets up a MAC context per one-shot call).
/// </summary>
[MemoryDiagnoser]
public class IdentityTokenBenchmarks
{
    private const string Method = "/meshbulkheads.payments.v1.PaymentsService/GetBalance";
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private readonly byte[] _key = Convert.FromBase64String(MeshIdentityToken.NewKey());
    private readonly byte[] _mac = new byte[32];
    private Dictionary<string, byte[]> _keys = null!;
    private MeshIdentityClaims _claims = null!;
    private string _token = null!;
    private byte[] _signed = null!;
    private HMACSHA256 _hmac = null!;

    [GlobalSetup]
    public void Setup()
    {
        _keys = new Dictionary<string, byte[]> { ["k1"] = _key, ["k2"] = Convert.FromBase64String(MeshIdentityToken.NewKey()) };
        _claims = new MeshIdentityClaims("acme", "payments", Method, Now.AddSeconds(10), MeshIdentityToken.NewTokenId(), "critical");
        _token = MeshIdentityToken.Mint(_claims, "k1", _key);
        _signed = Encoding.ASCII.GetBytes(_token[.._token.LastIndexOf('.')]);
        _hmac = new HMACSHA256(_key);
    }

    [Benchmark(Baseline = true)]
    public bool Hmac_SignedBytes() => _hmac.TryComputeHash(_signed, _mac, out _);

    [Benchmark]
    public int Hmac_OneShot() => HMACSHA256.HashData(_key, _signed, _mac);

    [Benchmark]
    public MeshIdentityTokenResult Verify() => MeshIdentityToken.Verify(_token, _keys, "payments", Method, Now, out _);

    [Benchmark]
    public string Mint() => MeshIdentityToken.Mint(_claims, "k1", _key);
}
