using System.Text;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Reporting.FanOut;

/// <summary>
/// Turns the first failed downstream call of a report into the report's own status. A rejection by
/// the fan-out bulkhead keeps its own status, reason and pushback. Payments'
/// trailers (in particular <c>grpc-retry-pushback-ms</c>) are never passed through: a report that
/// a client retried on payments' pushback would multiply load on payments by its fan-out (so the
/// library's <c>ToRpcException</c> is called without a <c>retryAfter</c>).
/// </summary>
public static class ReportFailure
{
    public const string BudgetExhaustedReason = "downstream-budget-exhausted";

    /// <summary>The error the report fails with after <paramref name="accountId"/>'s call failed.</summary>
    public static RpcException From(string accountId, Exception error)
    {
        switch (error)
        {
            case FanOutRejectedException rejected:
                // Reporting's own overload (or deadline) at its fan-out cap: passed on as the bulkhead
                // mapped it, pushback included — retrying later relieves reporting, not payments.
                return rejected.Rejection;
            case DownstreamBudgetExhaustedException budget:
                return BulkheadRejectionMapper.ToRpcException(StatusCode.DeadlineExceeded, BudgetExhaustedReason, budget.Message, retryAfter: null);
            case RpcException { StatusCode: StatusCode.NotFound } notFound:
                return new RpcException(new Status(
                    StatusCode.NotFound,
                    $"Account '{accountId}' was not found (payments: {notFound.Status.Detail}). Remove it from account_ids or create it first."));
            case RpcException downstream:
                var code = downstream.StatusCode;
                return BulkheadRejectionMapper.ToRpcException(
                    code,
                    "downstream-" + ToKebab(code),
                    $"Payments GetBalance for account '{accountId}' failed with {ToUpperSnake(code)}: {downstream.Status.Detail}. The report was abandoned and its other downstream calls cancelled.",
                    retryAfter: null);
            default:
                return new RpcException(new Status(
                    StatusCode.Internal,
                    $"Payments GetBalance for account '{accountId}' failed unexpectedly: {error.GetType().Name}. The report was abandoned."));
        }
    }

    /// <summary><c>DeadlineExceeded</c> → <c>deadline-exceeded</c>.</summary>
    public static string ToKebab(StatusCode code) => Split(code.ToString(), '-').ToLowerInvariant();

    /// <summary><c>DeadlineExceeded</c> → <c>DEADLINE_EXCEEDED</c>, as gRPC documents status names.</summary>
    public static string ToUpperSnake(StatusCode code) => Split(code.ToString(), '_').ToUpperInvariant();

    private static string Split(string pascal, char separator)
    {
        var builder = new StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i]))
            {
                builder.Append(separator);
            }

            builder.Append(pascal[i]);
        }

        return builder.ToString();
    }
}

/// <summary>The fan-out bulkhead refused a permit; <see cref="Rejection"/> is its wire form.</summary>
public sealed class FanOutRejectedException(RpcException rejection) : Exception(rejection.Status.Detail, rejection)
{
    public RpcException Rejection { get; } = rejection;
}

/// <summary>The caller's remaining deadline is too short to start another downstream call.</summary>
public sealed class DownstreamBudgetExhaustedException(string accountId, TimeSpan remaining, TimeSpan minimum)
    : Exception($"Not enough deadline left to call payments for account '{accountId}': {Math.Max(0, (long)remaining.TotalMilliseconds)} ms remain after the safety margin, below the minimum downstream budget of {(long)minimum.TotalMilliseconds} ms. Retry with a longer deadline or fewer accounts.")
{
    public string AccountId { get; } = accountId;
}
