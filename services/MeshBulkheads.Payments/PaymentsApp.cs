using MeshBulkheads.Payments.Api;
using MeshBulkheads.Payments.Database;
using MeshBulkheads.Payments.Ledger;
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
        var builder = WebApplication.CreateBuilder(args);
        builder.AddServiceDefaults(ServiceName, defaultGrpcPort: 8081, defaultAdminPort: 9081);
        builder.Services.AddPaymentsServices();
        builder.Services.AddGrpc();
        builder.Services.AddGrpcReflection();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapGrpcService<PaymentsService>();
        app.MapGrpcReflectionService();
        return app;
    }

    /// <summary>Options, pool metrics, the ledger chosen by configuration, and the schema/seed warm-up.</summary>
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
            var options = sp.GetRequiredService<IOptions<PaymentsOptions>>();
            return string.IsNullOrWhiteSpace(options.Value.ConnectionString)
                ? ActivatorUtilities.CreateInstance<SqliteLedgerStore>(sp)
                : ActivatorUtilities.CreateInstance<PostgresLedgerStore>(sp);
        });
        services.AddSingleton<IWarmup, LedgerWarmup>();
        return services;
    }
}
