using MeshBulkheads.Contracts.Payments.V1;
using MeshBulkheads.Reporting;
using MeshBulkheads.Reporting.FanOut;
using MeshBulkheads.Reporting.Payments;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers reporting: options, the payments client (the one retry layer), the fan-out and its cap.</summary>
public static class ReportingServiceCollectionExtensions
{
    public static IServiceCollection AddReportingServices(this IServiceCollection services)
    {
        services.AddOptions<ReportingOptions>()
            .BindConfiguration(ReportingOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReportingOptions>, ReportingOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ReportingMetrics>();
        services.TryAddSingleton<DownstreamCallLimiter>();
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
