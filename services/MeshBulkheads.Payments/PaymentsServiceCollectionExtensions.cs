using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Payments;
using MeshBulkheads.Payments.Database;
using MeshBulkheads.Payments.Faults;
using MeshBulkheads.Payments.Ledger;
using MeshBulkheads.Payments.Partitions;
using MeshBulkheads.Payments.Pitfalls;
using MeshBulkheads.Payments.Seeding;
using MeshBulkheads.ServiceDefaults.Faults;
using MeshBulkheads.ServiceDefaults.Health;
using MeshBulkheads.ServiceDefaults.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers payments, one method per feature (the same shape as <c>AddReporting()</c> and <c>AddRender()</c>): what every
/// service registers the same way (<c>AddMeshService</c>: its options and gRPC server), then the ledger, the charge
/// partitions, the bulkheads and deadlines.
/// </summary>
public static class PaymentsServiceCollectionExtensions
{
    /// <summary>Everything payments needs; <see cref="PaymentsApp"/> calls it after <c>AddServiceDefaults</c>.</summary>
    public static IServiceCollection AddPayments(this IServiceCollection services) =>
        services
            // Section Payments, validated at start; the gRPC server with a 4 KB message limit (docs/sizing.md).
            .AddMeshService<PaymentsOptions, PaymentsOptionsValidator>(PaymentsOptions.SectionName, receiveMessageKb: _ => 4)
            .AddPaymentsLedger()
            .AddPaymentsPartitions()
            .AddPaymentsBulkheads();

    /// <summary>Pool metrics, the ledger chosen by configuration (PostgreSQL or SQLite, pitfall wrappers) and the schema/seed warm-up.</summary>
    public static IServiceCollection AddPaymentsLedger(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<DbPoolMetrics>();
        services.TryAddSingleton<ILedgerStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<PaymentsOptions>>().Value;
            ILedgerStore store = string.IsNullOrWhiteSpace(options.ConnectionString)
                ? ActivatorUtilities.CreateInstance<SqliteLedgerStore>(sp)
                : ActivatorUtilities.CreateInstance<PostgresLedgerStore>(sp);

            // The store fault point (PUT /faults target "store"; ExtraQueryLatency is its configured form).
            store = new FaultingLedgerStore(store, sp.GetRequiredService<FaultPipelines>());
            return options.Pitfalls.SyncOverAsync ? new SyncOverAsyncLedgerStore(store) : store;
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfiguredFault, ExtraQueryLatencyFault>());
        services.TryAddSingleton<PageTokenProtector>();
        services.AddSingleton<IWarmup, LedgerWarmup>();
        return services;
    }

    /// <summary>The keyed charge partitions (<c>Payments:Partitions</c>), created at host start and stopped first at shutdown.</summary>
    public static IServiceCollection AddPaymentsPartitions(this IServiceCollection services)
    {
        services.TryAddSingleton<PartitionMetrics>();
        services.TryAddSingleton(sp => new LogThrottle(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new ChargePartitions(
            sp.GetRequiredService<IOptions<PaymentsOptions>>(),
            sp.GetRequiredService<PartitionMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ChargePartitionHooks>(),
            sp.GetService<ILogger<ChargePartitions>>()));
        services.AddHostedService<ChargePartitionsLifetime>();
        return services;
    }

    /// <summary>
    /// Both bulkheads (<see cref="PaymentsBulkheads"/>), their method routes and the per-method deadline defaults. The
    /// numbers are code defaults; <c>Bulkheads:&lt;name&gt;:*</c> and <c>Deadlines:Methods:&lt;prefix&gt;:*</c> override them.
    /// </summary>
    public static IServiceCollection AddPaymentsBulkheads(this IServiceCollection services)
    {
        services.AddBulkheads()
            // FIFO, never LIFO: a charge's order matters to its account. 32 permits ≈ 2 × the partition
            // consumers, so every mailbox can be fed while the rest wait here, bounded.
            .AddBulkhead(PaymentsBulkheads.Charge, o =>
            {
                o.PermitLimit = 32;
                o.QueueLimit = 64;
                o.QueueProcessingOrder = BulkheadQueueOrder.Fifo;
                o.MaxQueueTime = TimeSpan.FromSeconds(1);
                // No tenant holds more than half of the permits + queue slots (48 of 96): one tenant's burst of
                // charges cannot keep every other tenant's charges out (README, "Defaults and why").
                o.TenantMaxShare = PaymentsBulkheads.ChargeTenantMaxShare;
            })
            // Reads are sheddable and unordered: newest-first under congestion, short queue time.
            .AddBulkhead(PaymentsBulkheads.Read, o =>
            {
                o.PermitLimit = 16;
                o.QueueLimit = 32;
                o.QueueProcessingOrder = BulkheadQueueOrder.AdaptiveLifo;
                o.MaxQueueTime = TimeSpan.FromMilliseconds(250);
                o.CongestionThreshold = TimeSpan.FromMilliseconds(50);
                // Reporting's fan-out for one tenant's big report enters here: it gets at most half (24 of 48).
                o.TenantMaxShare = PaymentsBulkheads.ReadTenantMaxShare;
            })
            // Deadline code defaults; Deadlines:Methods:<prefix>:* in configuration overrides each value.
            .MapMethods(PaymentsBulkheads.ChargeMethod, PaymentsBulkheads.Charge, new DeadlineOptions { Default = TimeSpan.FromSeconds(5), Max = TimeSpan.FromSeconds(30) })
            .MapMethods(PaymentsBulkheads.ServicePrefix, PaymentsBulkheads.Read, new DeadlineOptions { Default = TimeSpan.FromSeconds(2), Max = TimeSpan.FromSeconds(10) }); // longest prefix wins: everything but Charge
        return services;
    }
}
