using System.ComponentModel.DataAnnotations;

namespace MeshBulkheads.Reporting;

/// <summary>
/// Reporting limits, section <c>Reporting</c>. Every value is finite and validated at start-up
/// (<see cref="ReportingOptionsValidator"/>); the README explains each default.
/// </summary>
public sealed class ReportingOptions
{
    public const string SectionName = "Reporting";

    /// <summary>Most account ids in one report. The default is 100.</summary>
    [Range(1, 10_000)]
    public int MaxAccounts { get; set; } = 100;

    /// <summary>The payments gRPC (h2c) address. The default is http://127.0.0.1:8081.</summary>
    [Required]
    public string PaymentsAddress { get; set; } = "http://127.0.0.1:8081";

    /// <summary>Downstream calls one report runs at once. The default is 4.</summary>
    [Range(1, 1_000)]
    public int MaxParallelismPerReport { get; set; } = 4;

    /// <summary>
    /// Downstream calls all in-flight reports of this process run at once: the permits of the shared
    /// bulkhead <c>reporting-fanout</c>. The default is 16.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxConcurrentDownstreamCalls { get; set; } = 16;

    /// <summary>
    /// Pitfall switch: start every downstream call of a report at once, ignoring both caps.
    /// The default is false; turn it on only to see why it is avoided.
    /// </summary>
    public bool UncappedFanOut { get; set; }

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
}
