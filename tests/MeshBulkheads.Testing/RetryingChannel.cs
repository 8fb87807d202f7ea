using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Configuration;

namespace MeshBulkheads.Testing;

/// <summary>
/// Channel options whose retry policy has a tiny fixed backoff: a client built with them succeeds
/// after a rejection only if it waited the server's <c>grpc-retry-pushback-ms</c>, not its own backoff.
/// </summary>
public static class RetryingChannel
{
    public static GrpcChannelOptions Options(StatusCode retryOn, int maxAttempts, TimeSpan backoff) => new()
    {
        ServiceConfig = new ServiceConfig
        {
            MethodConfigs =
            {
                new MethodConfig
                {
                    Names = { MethodName.Default },
                    RetryPolicy = new RetryPolicy
                    {
                        MaxAttempts = maxAttempts,
                        InitialBackoff = backoff,
                        MaxBackoff = backoff,
                        BackoffMultiplier = 1,
                        RetryableStatusCodes = { retryOn },
                    },
                },
            },
        },
    };
}
