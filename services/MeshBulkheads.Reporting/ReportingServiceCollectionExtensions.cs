using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Reporting;
using MeshBulkheads.Reporting.FanOut;
using MeshBulkheads.Reporting.Grpc;
using MeshBulkheads.Reporting.Payments;
using MeshBulkheads.ServiceDefaults.Grpc;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers reporting, one method per feature (the same shape as <c>AddPayments()</c> and <c>AddRender()</c>): what
/// every service registers the same way (<c>AddMeshService</c>: its options and gRPC server), then the bulkheads
/// <c>reporting</c> (BuildReport admission, via the interceptor) and <c>reporting-fanout</c> (the process-wide downstream
/// cap) with BuildReport's deadline policy, and the fan-out with the payments client (the one retry layer).
/// </summary>
public static class ReportingServiceCollectionExtensions
{
    /// <summary>Everything reporting needs; <see cref="ReportingApp"/> calls it after <c>AddServiceDefaults</c>.</summary>
    public static IServiceCollection AddReporting(this IServiceCollection services) =>
        services
            // Section Reporting, validated at start; the gRPC server with BuildReport's request checks in their slot (an
            // invalid request never takes a deadline or a permit) and a message limit for Reporting:MaxAccounts ids of at
            // most 64 bytes + 2 of framing each (docs/sizing.md).
            .AddMeshService<ReportingOptions, ReportingOptionsValidator>(
                ReportingOptions.SectionName,
                receiveMessageKb: r => GrpcMessageLimits.KbFor(r.MaxAccounts * (AccountIdRule.MaxLength + 2L)),
                requestChecks: checks => checks.Add<BuildReportValidationInterceptor>())
            .AddReportingBulkheads()
            .AddReportingFanOut();

    /// <summary>
    /// Both bulkheads with their code defaults (README: "Bulkheads"; <c>Bulkheads:&lt;name&gt;:*</c> overrides each value,
    /// <c>Bulkheads:reporting-fanout:PermitLimit</c> included), BuildReport's route and deadline defaults, and the
    /// start-up check that a default-deadline report can reach payments.
    /// </summary>
    public static IServiceCollection AddReportingBulkheads(this IServiceCollection services)
    {
        services.AddBulkheads()
            .AddBulkhead(ReportingBulkheads.Reports, o =>
            {
                // About 2 × the reports the fan-out cap serves at full per-report parallelism (16 ÷ 4 = 4),
                // so the cap stays busy while reports validate and sum.
                o.PermitLimit = 8;
                o.QueueLimit = 16;
                o.MaxQueueTime = TimeSpan.FromSeconds(1);
                o.TenantMaxShare = ReportingBulkheads.DefaultTenantMaxShare;
            })
            .AddBulkhead(ReportingBulkheads.FanOut, o =>
            {
                o.PermitLimit = ReportingBulkheads.DefaultFanOutPermitLimit;
                // Admitted reports × per-report parallelism = 8 × 4 = 32 calls may want a slot at once.
                o.QueueLimit = 32;
                o.MaxQueueTime = TimeSpan.FromMilliseconds(500);
                o.TenantMaxShare = ReportingBulkheads.DefaultTenantMaxShare;
            })
            // Deadline code defaults; Deadlines:Methods:<prefix>:* in configuration overrides each value.
            .MapMethods(ReportingBulkheads.MethodPrefix, ReportingBulkheads.Reports, new DeadlineOptions { Default = ReportingBulkheads.DefaultDeadline, Max = ReportingBulkheads.MaxDeadline });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeadlinePolicyOptions>, ReportingDeadlineBudgetValidation>());
        return services;
    }

    /// <summary>The fan-out with its report circuit breaker, its metrics, and the payments client with its circuit breaker.</summary>
    public static IServiceCollection AddReportingFanOut(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ReportingMetrics>();
        services.TryAddSingleton<ReportFanOut>();

        // The address is read when the channel is first created, so configuration added later
        // (a test, an environment variable) is honoured. The channel is cached per client type,
        // so the retry-throttling budget is shared by every report in the process.
        PaymentsChannel.AddPaymentsClient(services);

        // The circuit breaker around each report's fan-out, sampling report outcomes (Polly's registry: its telemetry
        // goes to the same meter and TelemetryOptions as the payments breaker's).
        services.AddReportBreaker();

        // Both breakers' state changes (resilience.polly.strategy.events) on /metrics and OTLP with the mesh's own.
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(PaymentsCircuitBreaker.PollyMeterName));
        return services;
    }
}
