using MeshBulkheads.ServiceDefaults.Hosting;
using MeshBulkheads.Payments.Api;
using MeshBulkheads.Payments.Database;
using MeshBulkheads.Concurrency.Grpc;
using MeshBulkheads.Payments.Ledger;
using MeshBulkheads.Payments.Partitions;
using MeshBulkheads.Payments.Pitfalls;
using MeshBulkheads.Payments.Seeding;
using MeshBulkheads.ServiceDefaults.Health;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Payments;

/// <summary>Builds the payments host; tests call <see cref="Build"/> with their own configuration.</summary>
public static class PaymentsApp
{
    public const string ServiceName = "payments";

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = MeshHost.CreateBuilder(args, typeof(PaymentsApp).Assembly);
        builder.AddServiceDefaults(ServiceName, defaultGrpcPort: 8081, defaultAdminPort: 9081);
        builder.Services.AddPaymentsServices();
        builder.Services.AddPaymentsBulkheads();
        builder.Services.AddGrpc(o => o.AddMeshInterceptors());
        builder.Services.AddGrpcReflection();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGrpcService<PaymentsService>();
        app.MapGrpcReflectionService();
        return app;
    }

    /// <summary>Options, pool metrics, the ledger chosen by configuration, the charge partitions, and the schema/seed warm-up.</summary>
    public static IServiceCollection AddPaymentsServices(this IServiceCollection services)
    {
        services.AddOptions<PaymentsOptions>()
            .BindConfiguration(PaymentsOptions.SectionName)
            .Validate(
                o => o.DefaultPageSize <= o.MaxPageSize,
                "Payments:DefaultPageSize must not exceed Payments:MaxPageSize.")
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PaymentsOptions>, PaymentsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<DbPoolMetrics>();
        services.TryAddSingleton<ILedgerStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<PaymentsOptions>>().Value;
            ILedgerStore store = string.IsNullOrWhiteSpace(options.ConnectionString)
                ? ActivatorUtilities.CreateInstance<SqliteLedgerStore>(sp)
                : ActivatorUtilities.CreateInstance<PostgresLedgerStore>(sp);

            // Pitfall knobs wrap the real store only when set, so the default path has no indirection.
            if (options.Pitfalls.ExtraQueryLatency > TimeSpan.Zero)
            {
                store = new ExtraLatencyLedgerStore(store, options.Pitfalls.ExtraQueryLatency, sp.GetRequiredService<TimeProvider>());
            }

            return options.Pitfalls.SyncOverAsync ? new SyncOverAsyncLedgerStore(store) : store;
        });
        services.TryAddSingleton<PartitionMetrics>();
        services.TryAddSingleton(sp => new ChargePartitions(
            sp.GetRequiredService<IOptions<PaymentsOptions>>(),
            sp.GetRequiredService<PartitionMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ChargePartitionHooks>()));
        services.AddSingleton<IWarmup, LedgerWarmup>();
        return services;
    }
}
