using Google.Protobuf;

namespace MeshBulkheads.EndToEnd.Tests.HostileInput;

/// <summary>A gRPC method a port serves: its exact path, a valid request, and how a body would parse.</summary>
/// <param name="Path">The exact, case-sensitive method path.</param>
/// <param name="Valid">A valid request for the method (cheap to serve, succeeds for every demo tenant).</param>
/// <param name="Parses">Whether the bytes parse as the request type (what grpc-dotnet's deserializer would do).</param>
/// <param name="IsCheap">Whether a parsed request is cheap to serve (a random render could ask for 2048² pixels).</param>
/// <param name="MessageLimit">The largest request message (without the 5-byte header) this port takes for the method.</param>
public sealed record HostileMethod(string Path, Func<Random, byte[]> Valid, Func<byte[], bool> Parses, Func<byte[], bool> IsCheap, int MessageLimit)
{
    public static HostileMethod Of<T>(string path, MessageParser<T> parser, Func<Random, T> valid, int messageLimit, Func<T, bool>? isCheap = null)
        where T : IMessage<T>
    {
        return new HostileMethod(
            path,
            random => valid(random).ToByteArray(),
            bytes => TryParse(bytes, out _),
            bytes => TryParse(bytes, out var message) && (isCheap?.Invoke(message!) ?? true),
            messageLimit);

        bool TryParse(byte[] bytes, out T? message)
        {
            try
            {
                message = parser.ParseFrom(bytes);
                return true;
            }
            catch (InvalidProtocolBufferException)
            {
                message = default;
                return false;
            }
        }
    }
}

/// <summary>One gRPC port under test: the gateway (every method, through its routes) or one service.</summary>
/// <param name="Name">gateway, payments, reporting or render.</param>
/// <param name="Ordinal">A fixed number per port, mixed into the case seeds (string hashes are randomised per process).</param>
/// <param name="IsGateway">The gateway authenticates <c>x-api-key</c>; a service reads <c>x-tenant-id</c> (and soon a signed identity).</param>
/// <param name="Methods">The methods the port serves.</param>
/// <param name="RequiresTenant">Whether a direct call needs a valid <c>x-tenant-id</c> (payments and reporting; render does not).</param>
public sealed record HostileTarget(string Name, int Ordinal, bool IsGateway, IReadOnlyList<HostileMethod> Methods, bool RequiresTenant = true)
{
    public override string ToString() => Name;
}
