using MeshBulkheads.Contracts.Identity;

namespace MeshBulkheads.ServiceDefaults.Tests.Identity;

/// <summary>The token format (docs/security.md): what verifies, and the first check each bad token fails.</summary>
public sealed class MeshIdentityTokenTests
{
    private const string Method = "/meshbulkheads.payments.v1.PaymentsService/GetBalance";
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Key = Convert.FromBase64String(MeshIdentityToken.NewKey());
    private static readonly Dictionary<string, byte[]> Keys = new() { ["k1"] = Key };

    [Fact]
    public void Verify_MintedToken_ValidWithEveryClaim()
    {
        // Arrange
        var claims = new MeshIdentityClaims("acme", "payments", Method, Now.AddSeconds(7), "id-1", "sheddable", "reporting");
        var token = MeshIdentityToken.Mint(claims, "k1", Key);

        // Act
        var result = MeshIdentityToken.Verify(token, Keys, "payments", Method, Now, out var read);

        // Assert
        Assert.Equal(MeshIdentityTokenResult.Valid, result);
        Assert.Equal(claims, read);
        Assert.StartsWith("v1.k1.", token, StringComparison.Ordinal);
        Assert.Equal(4, token.Split('.').Length);
    }

    [Theory]
    [InlineData(null, MeshIdentityTokenResult.Missing)]
    [InlineData("", MeshIdentityTokenResult.Missing)]
    [InlineData("garbage", MeshIdentityTokenResult.Malformed)]
    [InlineData("v1.k1.abc", MeshIdentityTokenResult.Malformed)]
    [InlineData("v2.k1.abc.def", MeshIdentityTokenResult.Malformed)]
    [InlineData("v1..abc.def", MeshIdentityTokenResult.Malformed)]
    [InlineData("v1.k9.abc.def", MeshIdentityTokenResult.UnknownKey)]
    [InlineData("v1.k1.abc.def", MeshIdentityTokenResult.BadSignature)]
    [InlineData("v1.k1.abc.", MeshIdentityTokenResult.BadSignature)]
    [InlineData("v1.k1.abc.%%%%", MeshIdentityTokenResult.BadSignature)]
    public void Verify_HandMadeToken_RefusedAtTheFirstFailingCheck(string? token, MeshIdentityTokenResult expected)
    {
        // Act
        var result = MeshIdentityToken.Verify(token, Keys, "payments", Method, Now, out var claims);

        // Assert
        Assert.Equal(expected, result);
        Assert.Null(claims);
    }

    [Fact]
    public void Verify_AnyCharacterOfAValidTokenChanged_NeverValid()
    {
        // Arrange
        var token = Mint(Now.AddSeconds(5));

        // Act
        var results = new List<MeshIdentityTokenResult>();
        for (var i = 0; i < token.Length; i++)
        {
            foreach (var replacement in new[] { 'A', 'z', '0', '-', '_', '.' })
            {
                if (token[i] == replacement)
                {
                    continue;
                }

                var altered = string.Concat(token.AsSpan(0, i), replacement.ToString(), token.AsSpan(i + 1));
                results.Add(MeshIdentityToken.Verify(altered, Keys, "payments", Method, Now, out _));
            }
        }

        // Assert: the MAC covers every byte, and the kid picks the key before it is checked.
        Assert.True(results.Count > token.Length * 4);
        Assert.DoesNotContain(MeshIdentityTokenResult.Valid, results);
        Assert.DoesNotContain(MeshIdentityTokenResult.Expired, results);
        Assert.DoesNotContain(MeshIdentityTokenResult.WrongAudience, results);
    }

    [Fact]
    public void Verify_SignedWithAnotherAudiencesKeyUnderTheSameKid_BadSignature()
    {
        // Arrange: what reporting could do with its own key — mint for payments.
        var reportingKey = Convert.FromBase64String(MeshIdentityToken.NewKey());
        var token = MeshIdentityToken.Mint(new MeshIdentityClaims("acme", "payments", Method, Now.AddSeconds(5), "id", "critical"), "k1", reportingKey);

        // Act
        var result = MeshIdentityToken.Verify(token, Keys, "payments", Method, Now, out _);

        // Assert
        Assert.Equal(MeshIdentityTokenResult.BadSignature, result);
    }

    [Fact]
    public void Verify_AtAndAfterExpiry_Expired()
    {
        // Arrange
        var expires = Now.AddSeconds(5);
        var token = Mint(expires);

        // Act
        var before = MeshIdentityToken.Verify(token, Keys, "payments", Method, expires.AddMilliseconds(-1), out _);
        var at = MeshIdentityToken.Verify(token, Keys, "payments", Method, expires, out _);
        var after = MeshIdentityToken.Verify(token, Keys, "payments", Method, expires.AddHours(1), out _);

        // Assert
        Assert.Equal(MeshIdentityTokenResult.Valid, before);
        Assert.Equal(MeshIdentityTokenResult.Expired, at);
        Assert.Equal(MeshIdentityTokenResult.Expired, after);
    }

    [Fact]
    public void Verify_OtherAudienceOrMethodOrCaseVariant_Refused()
    {
        // Arrange
        var token = Mint(Now.AddSeconds(5));

        // Act
        var audience = MeshIdentityToken.Verify(token, Keys, "render", Method, Now, out _);
        var method = MeshIdentityToken.Verify(token, Keys, "payments", "/meshbulkheads.payments.v1.PaymentsService/Charge", Now, out _);
        var caseVariant = MeshIdentityToken.Verify(token, Keys, "payments", Method.ToUpperInvariant(), Now, out _);

        // Assert
        Assert.Equal(MeshIdentityTokenResult.WrongAudience, audience);
        Assert.Equal(MeshIdentityTokenResult.WrongMethod, method);
        Assert.Equal(MeshIdentityTokenResult.WrongMethod, caseVariant);
    }

    [Fact]
    public void Verify_MoreKeysOnOneThreadThanItCaches_EachTokenValidOnlyWithItsOwnKey()
    {
        // Arrange: 6 keys (the per-thread HMAC cache holds 4), minted and verified in turn, twice round, on this thread.
        var keys = Enumerable.Range(0, 6).Select(_ => Convert.FromBase64String(MeshIdentityToken.NewKey())).ToArray();
        var claims = new MeshIdentityClaims("acme", "payments", Method, Now.AddSeconds(7), "id-1", "critical");

        // Act
        var results = new List<(int Key, int Verifier, MeshIdentityTokenResult Result)>();
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < keys.Length; i++)
            {
                var token = MeshIdentityToken.Mint(claims, "k1", keys[i]);
                foreach (var j in new[] { i, (i + 1) % keys.Length })
                {
                    results.Add((i, j, MeshIdentityToken.Verify(token, new Dictionary<string, byte[]> { ["k1"] = keys[j] }, "payments", Method, Now, out _)));
                }
            }
        }

        // Assert
        Assert.All(results, r => Assert.Equal(r.Key == r.Verifier ? MeshIdentityTokenResult.Valid : MeshIdentityTokenResult.BadSignature, r.Result));
    }

    [Fact]
    public void Verify_TwoLiveKeys_TokensOfEitherValid()
    {
        // Arrange
        var next = Convert.FromBase64String(MeshIdentityToken.NewKey());
        var rotating = new Dictionary<string, byte[]> { ["k1"] = Key, ["k2"] = next };
        var old = Mint(Now.AddSeconds(5));
        var fresh = MeshIdentityToken.Mint(new MeshIdentityClaims("acme", "payments", Method, Now.AddSeconds(5), "id", "critical"), "k2", next);

        // Act
        var oldResult = MeshIdentityToken.Verify(old, rotating, "payments", Method, Now, out _);
        var freshResult = MeshIdentityToken.Verify(fresh, rotating, "payments", Method, Now, out _);
        var freshBeforeRollout = MeshIdentityToken.Verify(fresh, Keys, "payments", Method, Now, out _);

        // Assert
        Assert.Equal(MeshIdentityTokenResult.Valid, oldResult);
        Assert.Equal(MeshIdentityTokenResult.Valid, freshResult);
        Assert.Equal(MeshIdentityTokenResult.UnknownKey, freshBeforeRollout);
    }

    [Fact]
    public void Verify_OverlongToken_MalformedWithoutHashing()
    {
        // Arrange
        var token = "v1.k1." + new string('a', MeshIdentityToken.MaxLength) + ".x";

        // Act
        var result = MeshIdentityToken.Verify(token, Keys, "payments", Method, Now, out _);

        // Assert
        Assert.Equal(MeshIdentityTokenResult.Malformed, result);
    }

    [Theory]
    [InlineData("K1")]
    [InlineData("")]
    [InlineData("a.b")]
    [InlineData("0123456789abcdef0123456789abcdef0")]
    public void Mint_InvalidKeyId_Throws(string keyId)
    {
        // Act + Assert
        Assert.Throws<ArgumentException>(() => MeshIdentityToken.Mint(new MeshIdentityClaims("acme", "payments", Method, Now, "id", "critical"), keyId, Key));
    }

    [Fact]
    public void Mint_ShortKeyOrClaimWithLineFeed_Throws()
    {
        // Act + Assert
        Assert.Throws<ArgumentException>(() => MeshIdentityToken.Mint(new MeshIdentityClaims("acme", "payments", Method, Now, "id", "critical"), "k1", new byte[31]));
        Assert.Throws<ArgumentException>(() => MeshIdentityToken.Mint(new MeshIdentityClaims("acme\nglobex", "payments", Method, Now, "id", "critical"), "k1", Key));
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("c2hvcnQ=", false)]
    [InlineData("not base64!", false)]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", true)]
    public void DecodeKey_Value_AcceptsOnlyBase64OfAtLeast32Bytes(string value, bool accepted)
    {
        // Act + Assert
        Assert.Equal(accepted, MeshIdentityToken.DecodeKey(value) is not null);
    }

    private static string Mint(DateTimeOffset expires) =>
        MeshIdentityToken.Mint(new MeshIdentityClaims("acme", "payments", Method, expires, "id-1", "critical"), "k1", Key);
}
