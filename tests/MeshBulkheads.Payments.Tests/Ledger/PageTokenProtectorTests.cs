using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>Page tokens are sealed (AES-256-GCM) and bound to tenant and account: nothing readable, nothing forgeable.</summary>
public class PageTokenProtectorTests
{
    private static readonly string KeyA = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private static readonly string KeyB = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void TryOpen_TokenSealedForTheSameTenantAndAccount_TheSequence()
    {
        // Arrange
        var protector = Protector(("a", KeyA));
        var token = protector.Seal("acme", "acct-0001", 41);

        // Act
        var opened = protector.TryOpen(token, "acme", "acct-0001", out var sequence);

        // Assert
        Assert.True(opened);
        Assert.Equal(41, sequence);
        Assert.StartsWith("v2.a.", token, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("globex", "acct-0001")]
    [InlineData("acme", "acct-0002")]
    [InlineData("acme\0acct", "0001")]
    public void TryOpen_AnotherTenantOrAccount_Refused(string tenant, string account)
    {
        // Arrange
        var protector = Protector(("a", KeyA));
        var token = protector.Seal("acme", "acct-0001", 41);

        // Act
        var opened = protector.TryOpen(token, tenant, account, out var sequence);

        // Assert
        Assert.False(opened);
        Assert.Null(sequence);
    }

    [Fact]
    public void TryOpen_AnyOneCharacterOfTheSealedPartChanged_Refused()
    {
        // Arrange
        var protector = Protector(("a", KeyA));
        var token = protector.Seal("acme", "acct-0001", 41);
        var start = token.LastIndexOf('.') + 1;

        // Act: every position of the payload, flipped to another base64url character.
        var opened = Enumerable.Range(start, token.Length - start)
            .Select(i => token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..])
            .Count(altered => protector.TryOpen(altered, "acme", "acct-0001", out _));

        // Assert
        Assert.Equal(0, opened);
    }

    [Fact]
    public void Seal_SameSequenceTwice_DifferentTokensThatDoNotShowTheSequence()
    {
        // Arrange
        var protector = Protector(("a", KeyA));

        // Act
        var first = protector.Seal("acme", "acct-0001", 123456789);
        var second = protector.Seal("acme", "acct-0001", 123456789);

        // Assert: a fresh nonce each time; the old format's readable sequence and account are gone.
        Assert.NotEqual(first, second);
        var payload = Convert.FromBase64String(Pad(first[(first.LastIndexOf('.') + 1)..]));
        var plainSequence = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(plainSequence, 123456789);
        Assert.Equal(-1, payload.AsSpan().IndexOf(plainSequence));
        Assert.Equal(-1, payload.AsSpan().IndexOf("acct-0001"u8));
        Assert.Equal(12 + 8 + 16, payload.Length);
    }

    [Fact]
    public void TryOpen_KeyRotated_OldTokensOpenWhileTheOldKeyIsListedAndNotAfter()
    {
        // Arrange
        var before = Protector(("a", KeyA));
        var token = before.Seal("acme", "acct-0001", 7);
        var during = Protector(("b", KeyB), ("a", KeyA));
        var after = Protector(("b", KeyB));

        // Act
        var openedDuring = during.TryOpen(token, "acme", "acct-0001", out var sequence);
        var newToken = during.Seal("acme", "acct-0001", 7);
        var openedAfter = after.TryOpen(token, "acme", "acct-0001", out _);

        // Assert
        Assert.True(openedDuring);
        Assert.Equal(7, sequence);
        Assert.StartsWith("v2.b.", newToken, StringComparison.Ordinal);
        Assert.True(after.TryOpen(newToken, "acme", "acct-0001", out _));
        Assert.False(openedAfter);
    }

    [Fact]
    public void TryOpen_TwoProcessesWithoutConfiguredKeys_RefuseEachOthersTokens()
    {
        // Arrange
        var first = Protector();
        var second = Protector();
        var token = first.Seal("acme", "acct-0001", 7);

        // Act
        var openedByFirst = first.TryOpen(token, "acme", "acct-0001", out _);
        var openedBySecond = second.TryOpen(token, "acme", "acct-0001", out _);

        // Assert
        Assert.True(openedByFirst);
        Assert.False(openedBySecond);
    }

    [Theory]
    [InlineData("")]
    [InlineData("v2")]
    [InlineData("v2.a")]
    [InlineData("v2.a.!!!!")]
    [InlineData("v2.unknown.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("v1.a.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("v2.a.AAAA")]
    [InlineData("AQAAAAAAAAAFYWNjdC0wMDAx")]
    public void TryOpen_Malformed_RefusedWithoutThrowing(string token)
    {
        // Arrange
        var protector = Protector(("a", KeyA));

        // Act
        var opened = protector.TryOpen(token + new string('A', token.Length > 200 ? 100 : 0), "acme", "acct-0001", out var sequence);

        // Assert
        Assert.False(opened);
        Assert.Null(sequence);
    }

    [Fact]
    public void Validate_ShortKeyBadIdAndUnknownCurrent_EachNamedWithoutTheKeyValue()
    {
        // Arrange
        var shortKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var options = new PaymentsOptions
        {
            PageTokens = new PageTokenOptions { Keys = { ["ok"] = KeyA, ["short"] = shortKey, ["bad id!"] = KeyB }, CurrentKeyId = "missing" },
        };

        // Act
        var result = new PaymentsOptionsValidator().Validate(null, options);

        // Assert
        Assert.True(result.Failed);
        Assert.Contains("Payments:PageTokens:Keys:short must be the base64 of exactly 32 random bytes", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("key id 'bad id!' must be 1-32 characters", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Payments:PageTokens:CurrentKeyId must name one of the configured keys", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(shortKey, result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(KeyA, result.FailureMessage, StringComparison.Ordinal);
    }

    private static PageTokenProtector Protector(params (string Id, string Key)[] keys) =>
        new(
            Options.Create(new PaymentsOptions
            {
                PageTokens = new PageTokenOptions
                {
                    Keys = keys.ToDictionary(k => k.Id, k => k.Key, StringComparer.Ordinal),
                    CurrentKeyId = keys.Length == 0 ? null : keys[0].Id,
                },
            }),
            NullLogger<PageTokenProtector>.Instance);

    private static string Pad(string base64Url)
    {
        var base64 = base64Url.Replace('-', '+').Replace('_', '/');
        return base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
    }
}
