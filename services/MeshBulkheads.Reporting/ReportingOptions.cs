using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Reporting;

/// <summary>
/// Reporting limits, section <c>Reporting</c>. Every value is finite and validated at start-up
/// (the generated <see cref="ReportingOptionsValidator"/>); the README explains each default. The process-wide cap on
/// downstream calls is the <c>reporting-fanout</c> bulkhead's own key, <c>Bulkheads:reporting-fanout:PermitLimit</c>.
/// </summary>
public sealed class ReportingOptions : IValidatableObject
{
    public const string SectionName = "Reporting";

    /// <summary>Most account ids in one report. The default is 100.</summary>
    [Range(1, 10_000)]
    public int MaxAccounts { get; set; } = 100;

    /// <summary>
    /// The payments gRPC (h2c) address. The default is http://127.0.0.1:8081. A <c>dns:///host:port</c>
    /// address (in Kubernetes the headless Service, <c>dns:///payments-headless:8081</c>) balances calls
    /// round-robin over every address the name resolves to, re-resolved every
    /// <see cref="PaymentsDnsRefreshInterval"/>, so payments pods added by the autoscaler get reporting's traffic.
    /// </summary>
    [Required]
    public string PaymentsAddress { get; set; } = "http://127.0.0.1:8081";

    /// <summary>
    /// The PEM CA certificate(s) that issued payments' certificate (a Secret's <c>ca.crt</c>), section key
    /// <c>Reporting:PaymentsCaFile</c>. Set, the calls to payments use TLS (also for a <c>dns:</c> address) and payments'
    /// chain must end at this CA (custom root trust, name checked); an <c>https://</c> address without it uses the
    /// machine's trust store. Default none: h2c, as the address says.
    /// </summary>
    public string? PaymentsCaFile { get; set; }

    /// <summary>
    /// How often a <c>dns:</c> <see cref="PaymentsAddress"/> is resolved again. The default is 5 seconds
    /// (the gateway's DNS refresh); grpc-dotnet's own default re-resolves only after a connection fails,
    /// so new pods would get no traffic while the old ones stay up. Range 1 second to 1 hour.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan PaymentsDnsRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Downstream calls one report runs at once. The default is 4.</summary>
    [Range(1, 1_000)]
    public int MaxParallelismPerReport { get; set; } = 4;

    /// <summary>The circuit breaker on the payments client (section <c>Reporting:PaymentsBreaker</c>, <see cref="Payments.PaymentsCircuitBreakerOptions"/>).</summary>
    [ValidateObjectMembers]
    public Payments.PaymentsCircuitBreakerOptions PaymentsBreaker { get; set; } = new();

    /// <summary>The circuit breaker around each report's fan-out (section <c>Reporting:ReportBreaker</c>, <see cref="FanOut.ReportCircuitBreakerOptions"/>).</summary>
    [ValidateObjectMembers]
    public FanOut.ReportCircuitBreakerOptions ReportBreaker { get; set; } = new();

    /// <summary>The pitfall switches (section <c>Reporting:Pitfalls</c>).</summary>
    public ReportingPitfallOptions Pitfalls { get; set; } = new();

    /// <summary>
    /// Subtracted from the caller's remaining deadline for each downstream call, so reporting still
    /// has time to answer with a clear status. The default is 50 ms.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan DeadlineSafetyMargin { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// No downstream call starts with less budget than this (checked before and after waiting for a
    /// fan-out permit, and used as the fan-out bulkhead's deadline); the report fails DEADLINE_EXCEEDED
    /// instead of sending work that cannot finish. The default is 100 ms.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan MinDownstreamBudget { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The rules attributes cannot express; the generated <see cref="ReportingOptionsValidator"/> calls it.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Payments.PaymentsChannel.IsValidAddress(PaymentsAddress))
        {
            yield return new ValidationResult($"Reporting:PaymentsAddress '{PaymentsAddress}' must be an absolute http:// or https:// URI (e.g. http://127.0.0.1:8081) or dns:///<host>:<port> (e.g. dns:///payments-headless:8081).", [nameof(PaymentsAddress)]);
        }

        if (PaymentsCaFile is { Length: > 0 } caFile)
        {
            if (!File.Exists(caFile))
            {
                yield return new ValidationResult($"Reporting:PaymentsCaFile '{caFile}' does not exist (the PEM certificate of the CA that issued payments' certificate, e.g. a mounted Secret's ca.crt).", [nameof(PaymentsCaFile)]);
            }
            else if (PaymentsAddress.StartsWith(Uri.UriSchemeHttp + "://", StringComparison.OrdinalIgnoreCase))
            {
                yield return new ValidationResult($"Reporting:PaymentsCaFile is set but Reporting:PaymentsAddress '{PaymentsAddress}' is http:// (h2c): use https:// or dns:///.", [nameof(PaymentsCaFile)]);
            }
        }
    }
}

/// <summary>Pitfall switches, section <c>Reporting:Pitfalls</c>; every one is off by default.</summary>
public sealed class ReportingPitfallOptions
{
    /// <summary>
    /// Pitfall switch, never in production: start every downstream call of a report at once, ignoring both caps
    /// (<c>MaxParallelismPerReport</c> and the <c>reporting-fanout</c> bulkhead). The default is false; turn it on only
    /// to see why it is avoided.
    /// </summary>
    public bool UncappedFanOut { get; set; }
}
