
namespace MeshBulkheads.Payments.Tests.Ledger;

/// <summary>Idempotency keys: replays, conflicting payloads and racing calls, within one replica and across two.</summary>
public abstract partial class LedgerContractTests
{
    [Fact]
    public async Task Charge_SameKeySamePayload_ReplaysOriginalPayment()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        var request = Charge(account, 300);
        var original = await client.ChargeAsync(request, cancellationToken: Ct);
        await client.ChargeAsync(Charge(account, 200), cancellationToken: Ct);

        // Act
        var replay = await client.ChargeAsync(request, cancellationToken: Ct);
        var balance = await BalanceAsync(client, account);

        // Assert
        Assert.True(replay.Replayed);
        Assert.Equal(original.PaymentId, replay.PaymentId);
        Assert.Equal(300, replay.BalanceMinor); // the balance right after the original, not now
        Assert.Equal(500, balance.BalanceMinor);
        Assert.Equal(2, balance.PaymentCount);
    }

    [Fact]
    public async Task Charge_SameKeyDifferentPayload_ReturnsAlreadyExists()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        var original = Charge(account, 300);
        await client.ChargeAsync(original, cancellationToken: Ct);
        ChargeRequest[] conflicting =
        [
            new(original) { AmountMinor = 301 },
            new(original) { AccountId = NewAccount() },
            new(original) { Currency = "EUR" },
        ];

        // Act
        var errors = new List<RpcException>();
        foreach (var request in conflicting)
        {
            errors.Add(await AssertStatusAsync(StatusCode.AlreadyExists, () => client.ChargeAsync(request, cancellationToken: Ct).ResponseAsync));
        }

        var balance = await BalanceAsync(client, account);

        // Assert
        Assert.All(errors, e => Assert.Contains(original.IdempotencyKey, e.Status.Detail, StringComparison.Ordinal));
        Assert.Equal(300, balance.BalanceMinor);
        Assert.Equal(1, balance.PaymentCount);
        await AssertStatusAsync(StatusCode.NotFound, () => client.GetBalanceAsync(new GetBalanceRequest { AccountId = conflicting[1].AccountId }, cancellationToken: Ct).ResponseAsync);
    }

    [Fact]
    public async Task Charge_SixteenRacingCallsOneKey_ChargesOnce()
    {
        // Arrange
        var client = Client(Tenant);
        var account = NewAccount();
        var request = Charge(account, 4200);

        // Act
        var responses = await RaceAsync(16, _ => client.ChargeAsync(request, cancellationToken: Ct).ResponseAsync);
        var balance = await BalanceAsync(client, account);

        // Assert
        Assert.Single(responses.Select(r => r.PaymentId).Distinct());
        Assert.Single(responses, r => !r.Replayed);
        Assert.Equal(15, responses.Count(r => r.Replayed));
        Assert.All(responses, r => Assert.Equal(4200, r.BalanceMinor));
        Assert.Equal(4200, balance.BalanceMinor);
        Assert.Equal(1, balance.PaymentCount);
    }

    [Fact]
    public async Task Charge_OneKeyRacingOnTwoAccounts_RecordsOneAndRefusesTheOther()
    {
        // Arrange: different accounts take different row locks, so only the unique index can decide.
        var client = Client(Tenant);
        var key = Guid.NewGuid().ToString();
        string[] accounts = [NewAccount(), NewAccount()];

        // Act
        var results = await RaceAsync(16, async i =>
        {
            var request = new ChargeRequest { AccountId = accounts[i % 2], AmountMinor = 10, Currency = "USD", IdempotencyKey = key };
            try
            {
                return (Response: (ChargeResponse?)await client.ChargeAsync(request, cancellationToken: Ct), Status: StatusCode.OK);
            }
            catch (RpcException ex)
            {
                return (Response: (ChargeResponse?)null, Status: ex.StatusCode);
            }
        });
        var balances = new List<long>();
        foreach (var account in accounts)
        {
            try
            {
                balances.Add((await BalanceAsync(client, account)).BalanceMinor);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
            {
                balances.Add(0);
            }
        }

        // Assert
        Assert.All(results, r => Assert.Contains(r.Status, new[] { StatusCode.OK, StatusCode.AlreadyExists }));
        Assert.Single(results.Where(r => r.Response is not null).Select(r => r.Response!.PaymentId).Distinct());
        Assert.Single(results, r => r.Response is { Replayed: false });
        Assert.Equal(8, results.Count(r => r.Status == StatusCode.AlreadyExists));
        Assert.Equal([0L, 10L], balances.Order());
    }

    [Fact]
    public async Task Charge_RacingCallsAcrossTwoReplicas_ChargesOnce()
    {
        // Arrange
        var client = Client(Tenant);
        var replica = await Backend.StartHostAsync(WithSettings(Backend.HostConfiguration, ("Payments:Seed", "false")));
        var replicaClient = Client(Tenant, replica);
        var account = NewAccount();
        var request = Charge(account, 99);

        // Act
        var responses = await RaceAsync(16, i => (i % 2 == 0 ? client : replicaClient).ChargeAsync(request, cancellationToken: Ct).ResponseAsync);
        var balance = await BalanceAsync(replicaClient, account);

        // Assert
        Assert.Single(responses.Select(r => r.PaymentId).Distinct());
        Assert.Single(responses, r => !r.Replayed);
        Assert.Equal(99, balance.BalanceMinor);
        Assert.Equal(1, balance.PaymentCount);
    }
}
