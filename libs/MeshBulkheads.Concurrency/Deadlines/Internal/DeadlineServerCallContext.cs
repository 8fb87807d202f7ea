using Grpc.Core;

namespace MeshBulkheads.Concurrency.Deadlines.Internal;

/// <summary>
/// The handler's view of the call with the effective deadline: everything is delegated to the real context
/// except <see cref="ServerCallContext.Deadline"/> and <see cref="ServerCallContext.CancellationToken"/>.
/// </summary>
internal sealed class DeadlineServerCallContext(ServerCallContext inner, DateTime deadlineUtc, CancellationToken cancellationToken)
    : ServerCallContext
{
    public ServerCallContext Inner { get; } = inner;

    protected override string MethodCore => Inner.Method;

    protected override string HostCore => Inner.Host;

    protected override string PeerCore => Inner.Peer;

    protected override DateTime DeadlineCore => deadlineUtc;

    protected override Metadata RequestHeadersCore => Inner.RequestHeaders;

    protected override CancellationToken CancellationTokenCore => cancellationToken;

    protected override Metadata ResponseTrailersCore => Inner.ResponseTrailers;

    protected override Status StatusCore
    {
        get => Inner.Status;
        set => Inner.Status = value;
    }

    protected override WriteOptions? WriteOptionsCore
    {
        get => Inner.WriteOptions;
        set => Inner.WriteOptions = value;
    }

    protected override AuthContext AuthContextCore => Inner.AuthContext;

    protected override IDictionary<object, object> UserStateCore => Inner.UserState;

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        Inner.CreatePropagationToken(options);

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) =>
        Inner.WriteResponseHeadersAsync(responseHeaders);
}
