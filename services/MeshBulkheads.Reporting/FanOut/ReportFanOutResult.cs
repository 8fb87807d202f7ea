using Grpc.Core;
using MeshBulkheads.Contracts.Payments.V1;

namespace MeshBulkheads.Reporting.FanOut;

/// <summary>
/// How one report's fan-out ended, as the report breaker samples it (<see cref="ReportCircuitBreaker.IsFailure"/>): every
/// balance, or the report's failure together with the downstream error that caused it. A result, not an exception, so the
/// breaker judges the cause (which the wire status alone does not tell apart) and the caller throws the failure.
/// </summary>
public sealed class ReportFanOutResult
{
    private ReportFanOutResult(GetBalanceResponse[]? balances, RpcException? failure, Exception? cause)
    {
        Balances = balances;
        Failure = failure;
        Cause = cause;
    }

    /// <summary>Every balance, in the order of the report's account ids; null when the report failed.</summary>
    public GetBalanceResponse[]? Balances { get; }

    /// <summary>The report's status (<see cref="ReportFailure.From"/>); null when it completed.</summary>
    public RpcException? Failure { get; }

    /// <summary>The first downstream error, which <see cref="Failure"/> was made from; null when the report completed.</summary>
    public Exception? Cause { get; }

    public static ReportFanOutResult Completed(GetBalanceResponse[] balances) => new(balances, null, null);

    public static ReportFanOutResult Failed(RpcException failure, Exception cause) => new(null, failure, cause);
}
