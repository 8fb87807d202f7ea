using System.Text;
using Grpc.Core;
using MeshBulkheads.Concurrency.Rejections;
using MeshBulkheads.Reporting.Payments;
using Polly.CircuitBreaker;

namespace MeshBulkheads.Reporting.FanOut;

/// <summary>
/// Turns the first failed downstream call of a report into the report's own status. A rejection by
/// the fan-out bulkhead keeps its own status, reason and pushback. Payments'
/// trailers (in particular <c>grpc-retry-pushback-ms</c>) are never passed through: a report that
/// a client retried on payments' pushback would multiply load on payments by its fan-out.
/// </summary>
/// <remarks>
/// Leaving the pushback out is not enough: under gRFC A6 a client whose retry policy lists the status
/// (typically <c>UNAVAILABLE</c>) retries after its own backoff when there is no pushback. Only a negative
/// <c>grpc-retry-pushback-ms</c> means "do not retry", so every downstream failure (and the exhausted
/// downstream budget, which a retry within the same deadline cannot fix) carries
/// <c>grpc-retry-pushback-ms: -1</c>. The payments client below reporting has already retried what was
/// worth retrying (<c>PaymentsClientConfig</c>). The exceptions are the open circuit breakers, the payments client's
/// (<see cref="CircuitOpen"/>) and the report breaker (<see cref="ReportCircuitOpen"/>): nothing was sent, so they carry
/// the break time remaining as pushback.
/// </remarks>
public static class ReportFailure
{
    public const string BudgetExhaustedReason = MeshRejectReasons.DownstreamBudgetExhausted;

    public const string CircuitOpenReason = MeshRejectReasons.DownstreamCircuitOpen;

    /// <summary>The error the report fails with after <paramref name="accountId"/>'s call failed.</summary>
    /// <param name="accountId">The account whose call failed first.</param>
    /// <param name="error">Its error.</param>
    /// <param name="breakDuration">The payments breaker's break, the most a circuit-open pushback may be.</param>
    public static RpcException From(string accountId, Exception error, TimeSpan breakDuration)
    {
        // Before the RpcException cases: grpc-dotnet wraps the breaker's refusal in a status of its own choosing.
        if (PaymentsCircuitBreaker.TryGetBrokenCircuit(error, out var broken))
        {
            return CircuitOpen(broken, breakDuration).ToRpcException();
        }

        switch (error)
        {
            case MeshRejectionException rejected:
                // Reporting's own refusal: its overload (or deadline) at the fan-out cap, passed on as the
                // bulkhead mapped it, pushback included — retrying later relieves reporting, not payments —
                // or the exhausted downstream budget (do-not-retry).
                return rejected.Rejection.ToRpcException();
            case RpcException { StatusCode: StatusCode.NotFound } notFound:
                return new RpcException(new Status(
                    StatusCode.NotFound,
                    $"Account {EchoedValue.Quote(accountId)} was not found (payments: {EchoedValue.Quote(notFound.Status.Detail)}). Remove it from account_ids or create it first."));
            case RpcException downstream:
                var code = downstream.StatusCode;
                return new MeshRejection(
                    code,
                    MeshRejectReasons.Downstream(code),
                    $"Payments GetBalance for account {EchoedValue.Quote(accountId)} failed with {ToUpperSnake(code)}: {EchoedValue.Quote(downstream.Status.Detail)}. The report was abandoned and its other downstream calls cancelled.")
                {
                    DoNotRetry = true,
                }.ToRpcException();
            default:
                return new RpcException(new Status(
                    StatusCode.Internal,
                    $"Payments GetBalance for account {EchoedValue.Quote(accountId)} failed unexpectedly: {error.GetType().Name}. The report was abandoned."));
        }
    }

    /// <summary>
    /// The open payments breaker's refusal: <c>UNAVAILABLE</c> <c>downstream-circuit-open</c>, retry after the break
    /// time remaining. Nothing was sent to payments, so unlike every other downstream failure this one carries a
    /// pushback: a client that retries after it arrives when the breaker lets its probe through, not before.
    /// </summary>
    public static MeshRejection CircuitOpen(BrokenCircuitException broken, TimeSpan breakDuration) =>
        Refused(broken, breakDuration, "Payments is failing: the circuit breaker on reporting's payments client is open");

    /// <summary>
    /// The open report breaker's refusal (<see cref="ReportCircuitBreaker"/>): the same wire form as <see cref="CircuitOpen"/>
    /// (<c>UNAVAILABLE</c> <c>downstream-circuit-open</c>, retry after the break time remaining, bounded by
    /// <paramref name="breakDuration"/>, the report breaker's break); nothing was sent to payments either.
    /// </summary>
    public static MeshRejection ReportCircuitOpen(BrokenCircuitException broken, TimeSpan breakDuration) =>
        Refused(broken, breakDuration, "Reports are failing on payments (unavailable or out of deadline): reporting's report circuit breaker is open");

    private static MeshRejection Refused(BrokenCircuitException broken, TimeSpan breakDuration, string why)
    {
        var pushback = PaymentsCircuitBreaker.Pushback(broken, breakDuration);
        return new MeshRejection(
            StatusCode.Unavailable,
            CircuitOpenReason,
            $"{why}, so the report was refused without calling payments. Retry after {MeshRejection.ToPushbackMilliseconds(pushback)} ms.",
            pushback);
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

/// <summary>The fan-out bulkhead refused a permit; <see cref="MeshRejectionException.Rejection"/> is its wire form.</summary>
public sealed class FanOutRejectedException(MeshRejection rejection) : MeshRejectionException(rejection);

/// <summary>The caller's remaining deadline is too short to start another downstream call.</summary>
/// <remarks><c>DEADLINE_EXCEEDED</c> (<c>downstream-budget-exhausted</c>) with do-not-retry: a retry within the same deadline cannot fix it.</remarks>
public sealed class DownstreamBudgetExhaustedException(string accountId, TimeSpan remaining, TimeSpan minimum)
    : MeshRejectionException(new MeshRejection(
        StatusCode.DeadlineExceeded,
        ReportFailure.BudgetExhaustedReason,
        $"Not enough deadline left to call payments for account {EchoedValue.Quote(accountId)}: {Math.Max(0, (long)remaining.TotalMilliseconds)} ms remain after the safety margin, below the minimum downstream budget of {(long)minimum.TotalMilliseconds} ms. Retry with a longer deadline or fewer accounts.")
    {
        DoNotRetry = true,
    })
{
    public string AccountId { get; } = accountId;
}
