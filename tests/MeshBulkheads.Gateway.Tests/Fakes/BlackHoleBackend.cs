using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MeshBulkheads.Gateway.Tests.Fakes;

/// <summary>
/// An h2c backend that accepts every call and never finishes it, ignoring <c>grpc-timeout</c> (a
/// grpc-dotnet fake would enforce the forwarded deadline itself). Optionally it first sends the
/// response headers and one message, so the gateway's response has started.
/// </summary>
public sealed class BlackHoleBackend : H2cBackend
{
    private BlackHoleBackend()
    {
    }

    /// <summary>Completes when a call arrived.</summary>
    public TaskCompletionSource Received { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the gateway cancelled (reset) the call it forwarded.</summary>
    public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<BlackHoleBackend> StartAsync(IMessage? firstMessage = null)
    {
        var self = new BlackHoleBackend();
        await self.StartHostAsync(null, app =>
        {
            app.MapPost("/{**path}", async (HttpContext context) =>
            {
                self.Received.TrySetResult();
                await using var registration = context.RequestAborted.Register(() => self.Cancelled.TrySetResult());
                if (firstMessage is not null)
                {
                    context.Response.ContentType = "application/grpc";
                    await context.Response.Body.WriteAsync(RawGrpc.Frame(firstMessage));
                    await context.Response.Body.FlushAsync();
                }

                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    // The gateway reset the stream: the black hole ends with it.
                }
            });
        });
        return self;
    }
}
