using System.Diagnostics;
using System.Globalization;
using MeshBulkheads.Payments.Ledger;
using MeshBulkheads.ServiceDefaults.Health;

namespace MeshBulkheads.Payments.Seeding;

/// <summary>
/// Creates the schema and seeds the demo accounts before the process reports ready. Seeding goes
/// through the normal idempotent charge path with deterministic keys, so running it twice, or on
/// two replicas at once, records every payment exactly once.
/// </summary>
public sealed class LedgerWarmup(ILedgerStore store, IOptions<PaymentsOptions> options, IHostEnvironment environment, ILogger<LedgerWarmup> logger) : IWarmup
{
    /// <summary>Number of demo accounts per tenant.</summary>
    public const int AccountCount = 100;

    /// <summary>The currency of every seeded account.</summary>
    public const string SeedCurrency = "USD";

    /// <summary>The root span around schema creation and seeding: start-up is one trace, not one per statement.</summary>
    public const string SeedActivity = "payments.seed";

    /// <inheritdoc/>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        // A root whatever is ambient: every db.pool.wait/db.query span of start-up becomes its child,
        // so start-up exports one trace instead of two root spans per seed statement.
        // (An async method's change to Activity.Current does not flow back to its caller.)
        Activity.Current = null;
        using var activity = PaymentsTelemetry.Source.StartActivity(SeedActivity, ActivityKind.Internal);
        try
        {
            await SeedAsync(cancellationToken);
        }
        catch (Exception ex) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
    }

    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        PaymentsLog.SchemaReady(logger, store.DbSystem);

        var value = options.Value;
        if (!value.ShouldSeed(environment.IsDevelopment()))
        {
            return;
        }

        foreach (var tenant in value.SeedTenantList())
        {
            var recorded = 0;
            var replayed = 0;
            foreach (var charge in SeedCharges(tenant))
            {
                var result = await store.ChargeAsync(charge, cancellationToken);
                switch (result.Status)
                {
                    case ChargeStatus.Recorded:
                        recorded++;
                        break;
                    case ChargeStatus.Replayed:
                        replayed++;
                        break;
                    default:
                        // Someone charged a demo account with another currency or key: keep their data.
                        PaymentsLog.SeedChargeRefused(logger, tenant, charge.IdempotencyKey, result.Status.ToString());
                        break;
                }
            }

            PaymentsLog.TenantSeeded(logger, tenant, recorded, replayed);
        }
    }

    /// <summary>The deterministic demo charges of <paramref name="tenant"/>: 1-3 per account.</summary>
    public static IEnumerable<ChargeCommand> SeedCharges(string tenant)
    {
        for (var index = 1; index <= AccountCount; index++)
        {
            var account = AccountId(index);
            var count = 1 + (index % 3);
            for (var n = 1; n <= count; n++)
            {
                var amount = 100L * (1 + ((index * 7) + (n * 13)) % 50);
                yield return new ChargeCommand(tenant, account, amount, SeedCurrency, $"seed-{account}-{n}");
            }
        }
    }

    /// <summary>The demo account id for <paramref name="index"/> (1-based): <c>acct-0001</c>.</summary>
    public static string AccountId(int index) => "acct-" + index.ToString("D4", CultureInfo.InvariantCulture);
}
