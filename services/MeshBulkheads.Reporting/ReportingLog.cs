namespace MeshBulkheads.Reporting;

/// <summary>Source-generated log messages of the reporting service.</summary>
/// <remarks>
/// One line per abandoned report (its first failure), never one per downstream call: the calls a
/// failure cancels are not logged. Shedding at the fan-out cap and an exhausted deadline budget are
/// overload, counted by the metrics, so they are Debug, as is a report refused by an open breaker (Polly logs their transitions); a failed payments call is a Warning; an
/// unexpected exception an Error with its stack.
/// </remarks>
internal static partial class ReportingLog
{
    [LoggerMessage(1, LogLevel.Debug, "Report of {Accounts} accounts shed at the fan-out cap '{Bulkhead}': {Status}.", EventName = nameof(ReportShed))]
    public static partial void ReportShed(ILogger logger, int accounts, string bulkhead, string status);

    [LoggerMessage(2, LogLevel.Debug, "Report of {Accounts} accounts abandoned: the caller's deadline left too little budget for the next downstream call.", EventName = nameof(DownstreamBudgetExhausted))]
    public static partial void DownstreamBudgetExhausted(ILogger logger, int accounts);

    [LoggerMessage(3, LogLevel.Warning, "Report of {Accounts} accounts abandoned: payments GetBalance failed with {Status}.", EventName = nameof(DownstreamCallFailed))]
    public static partial void DownstreamCallFailed(ILogger logger, int accounts, string status);

    [LoggerMessage(4, LogLevel.Error, "Report of {Accounts} accounts abandoned: a downstream call failed unexpectedly.", EventName = nameof(ReportFailed))]
    public static partial void ReportFailed(ILogger logger, int accounts, Exception exception);

    [LoggerMessage(30, LogLevel.Error, "{Message}", EventName = nameof(PaymentsCaFileRejected))]
    public static partial void PaymentsCaFileRejected(ILogger logger, string message);

    [LoggerMessage(5, LogLevel.Debug, "Report of {Accounts} accounts refused: the circuit breaker on the payments client is open.", EventName = nameof(DownstreamCircuitOpen))]
    public static partial void DownstreamCircuitOpen(ILogger logger, int accounts);

    [LoggerMessage(6, LogLevel.Debug, "Report of {Accounts} accounts refused: the report circuit breaker is open.", EventName = nameof(ReportCircuitOpen))]
    public static partial void ReportCircuitOpen(ILogger logger, int accounts);
}
