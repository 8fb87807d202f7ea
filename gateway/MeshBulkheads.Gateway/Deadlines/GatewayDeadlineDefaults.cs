using MeshBulkheads.Concurrency.Deadlines;

namespace MeshBulkheads.Gateway.Deadlines;

/// <summary>
/// The gateway's code defaults of <c>Deadlines:Methods:&lt;prefix&gt;</c>: the same table as the services' (docs/sizing.md,
/// "Deadlines"), so a call gets the same deadline whether it comes through the gateway or not. The shipped
/// appsettings.json spells the same numbers for operators; configuration overrides each value. A test holds the
/// gateway's effective table equal to each service's for every contract method.
/// </summary>
public static class GatewayDeadlineDefaults
{
    /// <summary>The prefix → (Default, Max) table; <c>Deadlines:AllMethods</c> keeps the library's 5 s / 30 s.</summary>
    public static IReadOnlyDictionary<string, DeadlineOptions> Methods { get; } = new Dictionary<string, DeadlineOptions>(StringComparer.Ordinal)
    {
        ["/meshbulkheads.payments.v1.PaymentsService/Charge"] = new() { Default = TimeSpan.FromSeconds(5), Max = TimeSpan.FromSeconds(30) },
        ["/meshbulkheads.payments.v1.PaymentsService/"] = new() { Default = TimeSpan.FromSeconds(2), Max = TimeSpan.FromSeconds(10) },
        ["/meshbulkheads.reporting.v1.ReportingService/"] = new() { Default = TimeSpan.FromSeconds(5), Max = TimeSpan.FromSeconds(30) },
        ["/meshbulkheads.render.v1.RenderService/"] = new() { Default = TimeSpan.FromSeconds(10), Max = TimeSpan.FromSeconds(60) },
    };

    /// <summary>Adds the table as code defaults of the gateway's deadline policies.</summary>
    /// <param name="builder">The gateway's bulkheads builder (deadlines are registered with the bulkheads).</param>
    /// <returns>The same builder.</returns>
    public static IBulkheadsBuilder AddGatewayDeadlineDefaults(this IBulkheadsBuilder builder)
    {
        foreach (var (prefix, deadline) in Methods)
        {
            builder.AddDeadline(prefix, new DeadlineOptions { Default = deadline.Default, Max = deadline.Max });
        }

        return builder;
    }
}
