using Grpc.AspNetCore.Server;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using MeshBulkheads.ServiceDefaults.Grpc.Internal;

namespace MeshBulkheads.ServiceDefaults.Grpc;

/// <summary>
/// What a request message that cannot be decoded is answered, in every process (issue 15, K1): <c>INTERNAL</c> naming
/// the cause, the gRPC status-code table's "error parsing request proto", as grpc-dotnet already answers a frame cut
/// short ("Incomplete message."); a length prefix over <see cref="int.MaxValue"/> is <c>RESOURCE_EXHAUSTED</c>, as any
/// prefix over <c>MaxReceiveMessageSize</c> is.
/// </summary>
/// <remarks>
/// grpc-dotnet deserializes the request before any interceptor runs, and answered three such failures
/// <c>UNKNOWN</c> "Exception was thrown by handler." (logging each at Error): a message the protobuf parser refuses
/// (<c>InvalidProtocolBufferException</c>), a compressed flag other than 0 or 1 (<c>InvalidDataException</c>) and a
/// length prefix over <see cref="int.MaxValue"/> (<c>IOException</c>). An <see cref="RpcException"/> thrown while it reads
/// the request is answered with its own status, so the fix is two such throws in its read path:
/// every method's request deserializer is wrapped (<see cref="AddMeshRequestDecoding"/> binds the services' methods with
/// the wrapped marshaller), and the request body of a gRPC method is read through a check of each frame header
/// (<c>ListenerGate</c>, <see cref="CheckFrameHeaders"/>).
/// </remarks>
public static class MeshRequestDecoding
{
    /// <summary>The message of a request message that does not parse (after the method's path; the parser's reason follows).</summary>
    public const string UnparsableMessage = "could not be parsed";

    /// <summary>The message of a compressed flag other than 0 or 1.</summary>
    public const string InvalidCompressedFlag = "Invalid gRPC message frame: the compressed flag is";

    /// <summary>grpc-dotnet's own message for a length prefix over <c>MaxReceiveMessageSize</c>, used for one over <see cref="int.MaxValue"/> too.</summary>
    public const string MessageTooLarge = "Received message exceeds the maximum configured message size.";

    /// <summary>
    /// Binds every gRPC service of the host with request deserializers that answer <c>INTERNAL</c> instead of throwing
    /// into grpc-dotnet's handler error path: replaces grpc-dotnet's method provider (the one that calls the generated
    /// <c>BindService</c>) with one that does the same with wrapped request marshallers.
    /// </summary>
    /// <remarks>
    /// Call it after every <c>AddGrpc</c> (each would add grpc-dotnet's provider again): the hosts call it last, just
    /// before <c>Build()</c> (<c>MeshHost.BuildGrpcService</c>, <c>GatewayApp.Build</c>). Fails when grpc-dotnet's
    /// provider is not registered, so a grpc-dotnet that changed how it binds services fails the start, not the wire.
    /// </remarks>
    /// <param name="services">The host's services, with <c>AddGrpc</c> already called.</param>
    /// <returns>The same services.</returns>
    public static IServiceCollection AddMeshRequestDecoding(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var removed = 0;
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IServiceMethodProvider<>) && IsGrpcBinderProvider(services[i].ImplementationType))
            {
                services.RemoveAt(i);
                removed++;
            }
        }

        var ours = services.Any(d => d.ServiceType == typeof(IServiceMethodProvider<>) && d.ImplementationType == typeof(DecodingServiceMethodProvider<>));
        if (removed == 0 && !ours)
        {
            throw new InvalidOperationException("grpc-dotnet's BinderServiceMethodProvider<> is not registered: call AddMeshRequestDecoding after AddGrpc (and check how this grpc-dotnet binds services).");
        }

        if (!ours)
        {
            services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(DecodingServiceMethodProvider<>));
        }

        return services;
    }

    /// <summary>
    /// <paramref name="marshaller"/> with a deserializer that throws <c>INTERNAL</c> naming <paramref name="method"/>
    /// and the parser's reason when the bytes do not decode (an <see cref="RpcException"/> passes unchanged).
    /// </summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="marshaller">The generated marshaller.</param>
    /// <param name="method">The method's full name, <c>/package.Service/Method</c>, for the status message.</param>
    /// <returns>A marshaller that serializes as <paramref name="marshaller"/> does.</returns>
    public static Marshaller<T> WithDecodingStatus<T>(Marshaller<T> marshaller, string method)
    {
        ArgumentNullException.ThrowIfNull(marshaller);
        var deserialize = marshaller.ContextualDeserializer;
        return new Marshaller<T>(marshaller.ContextualSerializer, context =>
        {
            try
            {
                return deserialize(context);
            }
            catch (Exception e) when (e is not RpcException and not OperationCanceledException)
            {
                // The parser's reasons are fixed sentences (no request bytes in them): safe and useful to echo.
                throw new RpcException(new Status(StatusCode.Internal, $"The request message of {method} {UnparsableMessage}: {e.Message}", e));
            }
        });
    }

    /// <summary>
    /// Reads the body of a gRPC call to a method of <paramref name="methodType"/> through a check of each frame header:
    /// a compressed flag other than 0 or 1 is <c>INTERNAL</c>, a length prefix over <see cref="int.MaxValue"/>
    /// <c>RESOURCE_EXHAUSTED</c>, thrown from the read, so grpc-dotnet answers them as its other framing errors.
    /// </summary>
    /// <param name="context">The request, before the gRPC endpoint runs.</param>
    /// <param name="methodType">The method's type: a unary or server-streaming method reads one frame, so only the first header is checked.</param>
    public static void CheckFrameHeaders(HttpContext context, MethodType methodType)
    {
        ArgumentNullException.ThrowIfNull(context);
        var single = methodType is MethodType.Unary or MethodType.ServerStreaming;
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IRequestBodyPipeFeature>(
            new FrameHeaderBodyFeature(new FrameHeaderCheckingReader(context.Request.BodyReader, single)));
    }

    private static bool IsGrpcBinderProvider(Type? implementation) =>
        implementation is { IsGenericTypeDefinition: true, Name: "BinderServiceMethodProvider`1" }
        && implementation.Assembly == typeof(GrpcServiceOptions).Assembly;
}
