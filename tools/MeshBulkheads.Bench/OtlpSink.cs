namespace MeshBulkheads.Bench;

/// <summary>
/// A local OTLP/gRPC endpoint that discards: every unary call (trace, metric and log <c>Export</c>) is answered
/// with an empty message, which is a valid empty <c>Export*ServiceResponse</c> (full success), and grpc-status 0.
/// The request body is read to its end and dropped. h2c on <c>Bench:Port</c> (default 4317) of 127.0.0.1. The
/// exporter's cost (serialising, sending) stays in the measured process; nothing accumulates here.
/// </summary>
internal static class OtlpSink
{
    private static readonly byte[] EmptyMessage = [0, 0, 0, 0, 0];

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        var port = builder.Configuration.GetValue("Bench:Port", 4317);
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port, l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2));
        var app = builder.Build();
        long exports = 0;
        app.Run(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            Interlocked.Increment(ref exports);
            context.Response.ContentType = "application/grpc";
            context.Response.AppendTrailer("grpc-status", "0");
            await context.Response.Body.WriteAsync(EmptyMessage, context.RequestAborted);
        });
        app.Lifetime.ApplicationStopping.Register(() => Console.WriteLine($"otlp-sink: {Interlocked.Read(ref exports)} exports discarded"));
        await app.RunAsync();
        return 0;
    }
}
