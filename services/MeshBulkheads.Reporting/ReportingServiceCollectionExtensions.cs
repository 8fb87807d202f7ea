using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;
using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Reporting;
using MeshBulkheads.Reporting.FanOut;
using MeshBulkheads.Reporting.Payments;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers reporting: options, the bulkheads <c>reporting</c> (BuildReport admission, via the
/// interceptor) and <c>reporting-fanout</c> (the process-wide downstream cap), BuildReport's deadline
/// policy, the payments client (the one retry layer) and the fan-out.
/// </summary>
public static class ReportingServiceCollectionExtensions
{
    /// <summary>The bulkhead in front of BuildReport.</summary>
    public const string ReportsBulkhead = "reporting";

    /// <summary>The bulkhead every downstream payments call acquires: the cap shared by all reports.</summary>
    public const string FanOutBulkhead = "reporting-fanout";

    /// <summary>The gRPC method prefix routed to <see cref="ReportsBulkhead"/> and given the deadline policy.</summary>
    public const string MethodPrefix = "/meshbulkheads.reporting.v1.ReportingService/";

    /// <summary>BuildReport's default deadline: 100 accounts ÷ 4 in parallel × ≈ 20 ms ≈ 0.5 s of work, ten times over.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(5);

    /// <summary>The longest deadline a BuildReport caller may ask for.</summary>
    public static readonly TimeSpan MaxDeadline = TimeSpan.FromSeconds(30);

    public static IServiceCollection AddReportingServices(this IServiceCollection services)
    {
        services.AddOptions<ReportingOptions>()
            .BindConfiguration(ReportingOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReportingOptions>, ReportingOptionsValidator>());

        // Code defaults (README: "Bulkheads"); Bulkheads:<name> in configuration overrides them.
        services.AddBulkheads()
            .AddBulkhead(ReportsBulkhead, o =>
            {
                // About 2 × the reports the fan-out cap serves at full per-report parallelism (16 ÷ 4 = 4),
                // so the cap stays busy while reports validate and sum.
                o.PermitLimit = 8;
                o.QueueLimit = 16;
                o.MaxQueueTime = TimeSpan.FromSeconds(1);
            })
            .AddBulkhead(FanOutBulkhead, o =>
            {
                // Admitted reports × per-report parallelism = 8 × 4 = 32 calls may want a slot at once.
                o.QueueLimit = 32;
                o.MaxQueueTime = TimeSpan.FromMilliseconds(500);
            })
            // Deadline code defaults; Deadlines:Methods:<prefix>:* in configuration overrides each value.
            .MapMethods(MethodPrefix, ReportsBulkhead, new DeadlineOptions { Default = DefaultDeadline, Max = MaxDeadline });

        // Reporting:MaxConcurrentDownstreamCalls is the one key for the cap; applied after Bulkheads:reporting-fanout is bound.
        services.AddOptions<BulkheadOptions>(FanOutBulkhead).PostConfigure<IOptions<ReportingOptions>>((bulkhead, reporting) =>
            bulkhead.PermitLimit = reporting.Value.MaxConcurrentDownstreamCalls);

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeadlinePolicyOptions>, ReportingDeadlineBudgetValidation>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ReportingMetrics>();
        services.TryAddSingleton<ReportFanOut>();

        // The address is read when the channel is first created, so configuration added later
        // (a test, an environment variable) is honoured. The channel is cached per client type,
        // so the retry-throttling budget is shared by every report in the process.
        services
            .AddGrpcClient<PaymentsService.PaymentsServiceClient>((sp, o) =>
                o.Address = new Uri(sp.GetRequiredService<IOptions<ReportingOptions>>().Value.PaymentsAddress))
            .ConfigureChannel(o => o.ServiceConfig = PaymentsClientConfig.CreateServiceConfig());
        return services;
    }
}
