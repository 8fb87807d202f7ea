using MeshBulkheads.Testing.Postgres;

namespace MeshBulkheads.Payments.Tests.Partitions;

/// <summary>
/// Partitions order charges inside one process; across replicas the database's row lock is what keeps
/// one account serializable. Two payments instances on one PostgreSQL, four clients charging the same
/// account at once: no lost update, and each client's sequential charges keep their order.
/// </summary>
public sealed class TwoInstancesTests(PostgresFixture postgres) : PaymentsHostTests
{
    private const int Clients = 4;
    private const int ChargesPerClient = 25;

    [Fact]
    public async Task Charge_OneAccountFromTwoInstances_NoLostUpdateAndPerClientOrderKept()
    {
        // Arrange
        postgres.EnsureAvailable();
        var settings = new Dictionary<string, string?> { ["Payments:ConnectionString"] = await postgres.CreateDatabaseAsync() };
        var first = await Scope.StartAsync(settings);
        var second = await Scope.StartAsync(settings);
        var clients = new[] { first, first, second, second }.Select(h => PaymentsHostScope.Client(h, Tenant)).ToArray();
        var account = "shared-" + Guid.NewGuid().ToString("N")[..8];

        // Act: each client charges sequentially; the four run at once. Amount = client × 100 + sequence.
        await Task.WhenAll(clients.Select(async (client, k) =>
        {
            for (var i = 1; i <= ChargesPerClient; i++)
            {
                await client.ChargeAsync(PaymentsHostScope.Charge(account, ((k + 1) * 100) + i), cancellationToken: Ct);
            }
        })).DefaultTimeout();

        // Assert
        var expected = Enumerable.Range(1, Clients).Sum(k => Enumerable.Range(1, ChargesPerClient).Sum(i => (k * 100L) + i));
        var fromFirst = await clients[0].GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);
        var fromSecond = await clients[2].GetBalanceAsync(new GetBalanceRequest { AccountId = account }, cancellationToken: Ct);
        Assert.Equal(expected, fromFirst.BalanceMinor);
        Assert.Equal(expected, fromSecond.BalanceMinor);
        Assert.Equal(Clients * ChargesPerClient, fromFirst.PaymentCount);

        var committed = await PaymentsHostScope.ListOldestFirstAsync(clients[3], account, Ct);
        Assert.Equal(Clients * ChargesPerClient, committed.Count);
        for (var k = 1; k <= Clients; k++)
        {
            var sequence = committed.Where(p => p.AmountMinor / 100 == k).Select(p => p.AmountMinor % 100).ToList();
            Assert.Equal(Enumerable.Range(1, ChargesPerClient).Select(i => (long)i), sequence);
        }

        // Interleaving proves the clients really overlapped (not one after the other).
        var runs = committed.Zip(committed.Skip(1)).Count(pair => pair.First.AmountMinor / 100 != pair.Second.AmountMinor / 100);
        Assert.True(runs > Clients - 1, $"only {runs} switches between clients: the charges did not overlap");
    }
}
