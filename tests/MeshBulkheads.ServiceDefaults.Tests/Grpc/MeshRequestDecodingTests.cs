using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using MeshBulkheads.ServiceDefaults.Grpc;

namespace MeshBulkheads.ServiceDefaults.Tests.Grpc;

/// <summary>How a request message that cannot be decoded is answered (issue 15, K1; the wire is in EndToEnd.Tests HostileFrameTests).</summary>
public sealed class MeshRequestDecodingTests
{
    [Fact]
    public void AddMeshRequestDecoding_AfterAddGrpc_ReplacesGrpcDotnetsBinderProvider()
    {
        // Arrange
        var services = new ServiceCollection().AddGrpc().Services;

        // Act
        services.AddMeshRequestDecoding();
        services.AddMeshRequestDecoding();

        // Assert
        // grpc-dotnet's provider for ServerServiceDefinition-based services stays; the one that calls BindService is ours, once.
        var providers = services.Where(d => d.ServiceType == typeof(IServiceMethodProvider<>)).Select(d => d.ImplementationType!.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["DecodingServiceMethodProvider`1", "ServiceDefinitionMethodProvider`1"], providers);
    }

    [Fact]
    public void AddMeshRequestDecoding_WithoutAddGrpc_FailsNamingTheOrder()
    {
        // Act
        var thrown = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddMeshRequestDecoding());

        // Assert
        Assert.Contains("after AddGrpc", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithDecodingStatus_UnparsableBytes_InternalNamingTheMethodAndTheReason()
    {
        // Arrange
        var marshaller = MeshRequestDecoding.WithDecodingStatus(Marshallers.Create(m => m.ToByteArray(), GetBalanceRequest.Parser.ParseFrom), "/p.S/M");

        // Act
        var thrown = Assert.Throws<RpcException>(() => marshaller.ContextualDeserializer(new Payload([0x00, 0x01])));

        // Assert
        Assert.Equal(StatusCode.Internal, thrown.StatusCode);
        Assert.Equal("The request message of /p.S/M could not be parsed: Protocol message contained an invalid tag (zero).", thrown.Status.Detail);
        Assert.Equal("acct-1", marshaller.ContextualDeserializer(new Payload(new GetBalanceRequest { AccountId = "acct-1" }.ToByteArray())).AccountId);
    }

    /// <summary>A request payload as grpc-dotnet hands it to the contextual deserializer.</summary>
    private sealed class Payload(byte[] bytes) : DeserializationContext
    {
        public override int PayloadLength => bytes.Length;

        public override byte[] PayloadAsNewBuffer() => bytes.ToArray();

        public override System.Buffers.ReadOnlySequence<byte> PayloadAsReadOnlySequence() => new(bytes);
    }
}
