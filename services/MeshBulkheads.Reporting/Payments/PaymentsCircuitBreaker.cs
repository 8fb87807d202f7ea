using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using Grpc.Core;
using Polly;
using Polly.CircuitBreaker;

namespace MeshBulkheads.Reporting.Payments;

/// <summary>
/// The circuit breaker on reporting's payments gRPC client: a Microsoft.Extensions.Http.Resilience handler
/// (<see cref="PipelineName"/>) with one strategy, a circuit breaker that understands gRPC (<see cref="IsFailure"/>),
/// configured by <see cref="PaymentsCircuitBreakerOptions"/> (<c>Reporting:PaymentsBreaker</c>).
/// </summary>
/// <remarks>
/// <para>
/// Only a breaker: no retry (the service config's retry policy and retry throttling, <see cref="PaymentsClientConfig"/>,
/// own retries, and they run in the gRPC call ABOVE the HTTP handler chain, so every attempt, each retry included, is
/// one sample) and no total or attempt timeout (the gRPC deadline owns time; an HTTP timeout would override it).
/// </para>
/// <para>
/// Where it sits: the client factory's chain is this handler (a <see cref="DelegatingHandler"/>) over the
/// <see cref="SocketsHttpHandler"/> primary handler, which stays at the bottom, as grpc-dotnet load balancing needs
/// (the channel finds it through the delegating handlers and opens one connection per resolved address). The channel
/// puts its own balancer handler on top of the whole chain: it picks the subchannel and rewrites the request's URI to
/// that address before this handler runs, so the breaker does see which payments pod an attempt goes to
/// (PaymentsCircuitBreakerTests prove both). Still it is one breaker per service, not per pod: an open per-pod breaker
/// would fail that pod's picks with <c>INTERNAL</c> (the status grpc-dotnet gives an exception it does not know),
/// which the retry policy does not retry on the next pod, while without it the pod's <c>UNAVAILABLE</c> is retried
/// on the next pod and succeeds; round-robin does not skip a pod whose breaker is open. Per service it opens only
/// when most of payments refuses, which is when reporting should stop sending.
/// </para>
/// <para>
/// What grpc-dotnet's balancer fails itself never reaches the chain: while no subchannel is connected (payments
/// killed: connection refused), picks fail <c>UNAVAILABLE</c> ("Error connecting to subchannel") above this handler
/// and send nothing, so they are not samples; the channel's own reconnect backoff already keeps load off a dead
/// payments. What the breaker sees of a kill is the attempts in flight when the connection breaks (transport
/// failures); once the channel has reconnected it still refuses until its break ends, so a payments coming back gets
/// one probe, not the backlog (PaymentsCircuitBreakerTests drive that cycle).
/// </para>
/// <para>
/// When open, the handler throws <see cref="BrokenCircuitException"/> without sending anything; grpc-dotnet wraps it
/// in an <see cref="RpcException"/> (<c>INTERNAL</c>, not retried) and the fan-out turns it into
/// <c>UNAVAILABLE</c> <c>downstream-circuit-open</c> with the remaining break as pushback
/// (<see cref="TryGetBrokenCircuit"/>, <see cref="Pushback"/>). Telemetry is Polly's, enabled by the resilience
/// pipeline: meter <c>Polly</c>, counter <c>resilience.polly.strategy.events</c> with <c>event.name</c>
/// <c>OnCircuitOpened</c>/<c>OnCircuitHalfOpened</c>/<c>OnCircuitClosed</c>, and its log lines.
/// </para>
/// </remarks>
public static class PaymentsCircuitBreaker
{
    /// <summary>The resilience handler's name (Polly's <c>pipeline.name</c> is the client's name, a dash, and this).</summary>
    public const string PipelineName = "payments-breaker";

    /// <summary>The circuit breaker strategy's name (Polly's <c>strategy.name</c>).</summary>
    public const string StrategyName = "payments-circuit-breaker";

    /// <summary>The event added to the current span when a report is refused because the breaker is open.</summary>
    public const string CircuitOpenEvent = "meshbulkheads.reporting.payments_circuit_open";

    /// <summary>The span tag set with <see cref="CircuitOpenEvent"/>: the pushback sent, in milliseconds.</summary>
    public const string PushbackTag = "meshbulkheads.reporting.payments_breaker.pushback_ms";

    /// <summary>Polly's meter, added to the process's OpenTelemetry metrics.</summary>
    public const string PollyMeterName = "Polly";

    private const string GrpcStatusHeader = "grpc-status";

    /// <summary>Adds the handler to the payments client; with <c>Enabled=false</c> its pipeline is empty (a pass-through).</summary>
    internal static IHttpClientBuilder AddPaymentsBreaker(this IHttpClientBuilder client)
    {
        client.AddResilienceHandler(PipelineName, static (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<ReportingOptions>>().Value.PaymentsBreaker;
            // The process's clock (a test's FakeTimeProvider drives the breaker through it).
            pipeline.TimeProvider = context.ServiceProvider.GetRequiredService<TimeProvider>();
            if (!options.Enabled)
            {
                return;
            }

            pipeline.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                Name = StrategyName,
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,
                BreakDuration = options.BreakDuration,
                ShouldHandle = static args => new ValueTask<bool>(IsFailure(args.Outcome, args.Context.CancellationToken)),
            });
        });
        return client;
    }

    /// <summary>
    /// Whether an attempt's outcome counts as a failure: a transport failure (any exception but a cancellation by the
    /// caller or the gRPC deadline), a Trailers-Only response with <c>grpc-status</c> <c>UNAVAILABLE</c> (14) or
    /// <c>RESOURCE_EXHAUSTED</c> (8), or an HTTP status that gRPC maps to <c>UNAVAILABLE</c> without a
    /// <c>grpc-status</c> (429, 502, 503, 504: a proxy in the way answered).
    /// </summary>
    /// <remarks>
    /// Every other status (<c>NOT_FOUND</c>, <c>INVALID_ARGUMENT</c>, <c>DEADLINE_EXCEEDED</c> from the server, …)
    /// is payments working, and counts as a success. Only Trailers-Only statuses can be seen: the handler returns the
    /// response when its headers arrive, and a status sent after headers (or after a message) is in the trailers,
    /// read by grpc-dotnet after the breaker has recorded the attempt as a success, so an <c>UNAVAILABLE</c> sent
    /// after headers is not counted. Decided to leave it so: payments' unary methods never write headers before the
    /// message, so every error they send (the bulkheads' sheds included) is Trailers-Only; only a streaming method
    /// could fail after headers.
    /// </remarks>
    /// <param name="outcome">The attempt's response or exception.</param>
    /// <param name="cancellationToken">The attempt's token (the gRPC call's: fires on the caller's cancellation or deadline).</param>
    public static bool IsFailure(Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken)
    {
        if (outcome.Exception is { } error)
        {
            // The caller left or the deadline passed: says nothing about payments' health.
            return !(error is OperationCanceledException && cancellationToken.IsCancellationRequested);
        }

        if (outcome.Result is not { } response)
        {
            return false;
        }

        if (response.Headers.TryGetValues(GrpcStatusHeader, out var values))
        {
            // Trailers-Only: the status is in the only HEADERS frame.
            return int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var status)
                && (StatusCode)status is StatusCode.Unavailable or StatusCode.ResourceExhausted;
        }

        return response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;
    }

    /// <summary>
    /// Finds the breaker's refusal in a failed call: grpc-dotnet wraps the handler's exception in an
    /// <see cref="RpcException"/> (status picked by itself), as its inner exception and the status' debug exception.
    /// </summary>
    public static bool TryGetBrokenCircuit(Exception error, [NotNullWhen(true)] out BrokenCircuitException? broken)
    {
        // Bounded: an exception chain is short, and a cycle through DebugException must not hang the fan-out.
        var current = error;
        for (var depth = 0; current is not null && depth < 16; depth++)
        {
            if (current is BrokenCircuitException found)
            {
                broken = found;
                return true;
            }

            current = current.InnerException ?? (current as RpcException)?.Status.DebugException;
        }

        broken = null;
        return false;
    }

    /// <summary>
    /// The pushback for a report refused while open: the break time remaining, bounded to [1 ms,
    /// <paramref name="breakDuration"/>] (the whole break when Polly does not know it).
    /// </summary>
    public static TimeSpan Pushback(BrokenCircuitException broken, TimeSpan breakDuration)
    {
        var remaining = broken.RetryAfter ?? breakDuration;
        return remaining < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1)
            : remaining > breakDuration ? breakDuration
            : remaining;
    }

    /// <summary>
    /// Marks the current span (the report's server span): the report was refused by an open breaker — this one
    /// (the defaults), or the report breaker (its <see cref="FanOut.ReportCircuitBreaker.CircuitOpenEvent"/> and tag).
    /// </summary>
    internal static void MarkSpan(TimeSpan pushback, string eventName = CircuitOpenEvent, string pushbackTag = PushbackTag)
    {
        if (Activity.Current is not { } span)
        {
            return;
        }

        var pushbackMs = (long)Math.Ceiling(pushback.TotalMilliseconds);
        span.SetTag(pushbackTag, pushbackMs);
        span.AddEvent(new ActivityEvent(eventName, tags: new ActivityTagsCollection { [pushbackTag] = pushbackMs }));
    }
}
