
namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>The charge decisions without a database: replay or conflict for a known key, and refusals of a new charge.</summary>
public sealed class ChargeRulesTests
{
    private static readonly StoredCharge s_recorded = new("pay-1", "acct-1", 500, "USD", 1500);

    [Fact]
    public void Replay_SamePayload_ReturnsReplayedWithOriginalPaymentAndBalance()
    {
        // Arrange
        var again = new ChargeCommand("acme", "acct-1", 500, "USD", "k1");

        // Act
        var result = ChargeRules.Replay(s_recorded, again);

        // Assert
        Assert.Equal(ChargeStatus.Replayed, result.Status);
        Assert.Equal("pay-1", result.PaymentId);
        Assert.Equal(1500, result.BalanceMinor);
        Assert.Null(result.Conflicting);
    }

    [Theory]
    [InlineData("acct-2", 500, "USD")]
    [InlineData("acct-1", 501, "USD")]
    [InlineData("acct-1", 500, "EUR")]
    [InlineData("ACCT-1", 500, "USD")]
    [InlineData("acct-1", 500, "usd")]
    public void Replay_PayloadDiffers_ReturnsConflictCarryingTheEarlierPayload(string accountId, long amountMinor, string currency)
    {
        // Arrange: any field differing, even only in case (compared ordinally)
        var other = new ChargeCommand("acme", accountId, amountMinor, currency, "k1");

        // Act
        var result = ChargeRules.Replay(s_recorded, other);

        // Assert
        Assert.Equal(ChargeStatus.IdempotencyConflict, result.Status);
        Assert.Null(result.PaymentId);
        Assert.Same(s_recorded, result.Conflicting);
    }

    [Theory]
    [InlineData(0L, 1L)]
    [InlineData(1000L, 250L)]
    [InlineData(long.MaxValue - 10, 10L)]
    public void Refusal_SameCurrencyAndRoomLeft_ReturnsNull(long balanceMinor, long amountMinor)
    {
        // Arrange
        var charge = new ChargeCommand("acme", "acct-1", amountMinor, "USD", "k1");

        // Act
        var refusal = ChargeRules.Refusal(charge, "USD", balanceMinor);

        // Assert
        Assert.Null(refusal);
    }

    [Theory]
    [InlineData("EUR")]
    [InlineData("usd")]
    public void Refusal_OtherCurrency_ReturnsCurrencyMismatchCarryingTheAccountCurrency(string accountCurrency)
    {
        // Arrange
        var charge = new ChargeCommand("acme", "acct-1", 100, "USD", "k1");

        // Act
        var refusal = ChargeRules.Refusal(charge, accountCurrency, 700);

        // Assert
        Assert.NotNull(refusal);
        Assert.Equal(ChargeStatus.CurrencyMismatch, refusal.Status);
        Assert.Equal(700, refusal.BalanceMinor);
        Assert.Equal(new StoredCharge(string.Empty, "acct-1", 0, accountCurrency, 700), refusal.Conflicting);
    }

    [Theory]
    [InlineData(long.MaxValue, 1L)]
    [InlineData(long.MaxValue - 10, 11L)]
    [InlineData(1L, long.MaxValue)]
    public void Refusal_NewBalanceBeyondInt64_ReturnsOverflowWithTheCurrentBalance(long balanceMinor, long amountMinor)
    {
        // Arrange
        var charge = new ChargeCommand("acme", "acct-1", amountMinor, "USD", "k1");

        // Act
        var refusal = ChargeRules.Refusal(charge, "USD", balanceMinor);

        // Assert
        Assert.NotNull(refusal);
        Assert.Equal(ChargeStatus.Overflow, refusal.Status);
        Assert.Equal(balanceMinor, refusal.BalanceMinor);
        Assert.Null(refusal.PaymentId);
    }

    [Fact]
    public void Refusal_OtherCurrencyAndOverflow_ReportsTheCurrencyFirst()
    {
        // Arrange
        var charge = new ChargeCommand("acme", "acct-1", 1, "USD", "k1");

        // Act
        var refusal = ChargeRules.Refusal(charge, "EUR", long.MaxValue);

        // Assert
        Assert.Equal(ChargeStatus.CurrencyMismatch, refusal?.Status);
    }
}
