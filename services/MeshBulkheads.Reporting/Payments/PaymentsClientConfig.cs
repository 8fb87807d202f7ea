using Grpc.Core;
using Grpc.Net.Client.Configuration;

namespace MeshBulkheads.Reporting.Payments;

/// <summary>
/// The one retry layer of the mesh: reporting's payments client, through gRPC service config.
/// </summary>
/// <remarks>
/// Only UNAVAILABLE is retried (overload or a transient connection failure: the call did not run).
/// <c>RetryThrottling</c> is the retry budget: every failure costs a token and every success returns
/// 0.1; below half of the 10 tokens the channel stops retrying, so a struggling payments sees at
/// most a small fraction of extra load. grpc-dotnet honours <c>grpc-retry-pushback-ms</c> from the
/// server. These retries run in the gRPC call, above the HTTP handler chain, so the circuit breaker
/// below them (<see cref="PaymentsCircuitBreaker"/>, Microsoft.Extensions.Http.Resilience) samples every attempt.
/// That handler has no retry and no timeout of its own: retries are here, and its timeouts would override
/// deadlines; its predicate reads Trailers-Only <c>grpc-status</c>, which the default one cannot see.
/// </remarks>
public static class PaymentsClientConfig
{
    public const int MaxAttempts = 3;
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);
    public const double BackoffMultiplier = 2;
    public const int ThrottlingMaxTokens = 10;
    public const double ThrottlingTokenRatio = 0.1;

    public static ServiceConfig CreateServiceConfig() => new()
    {
        MethodConfigs =
        {
            new MethodConfig
            {
                Names = { MethodName.Default },
                RetryPolicy = new RetryPolicy
                {
                    MaxAttempts = MaxAttempts,
                    InitialBackoff = InitialBackoff,
                    MaxBackoff = MaxBackoff,
                    BackoffMultiplier = BackoffMultiplier,
                    RetryableStatusCodes = { StatusCode.Unavailable },
                },
            },
        },
        RetryThrottling = new RetryThrottlingPolicy
        {
            MaxTokens = ThrottlingMaxTokens,
            TokenRatio = ThrottlingTokenRatio,
        },
    };
}
