using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Health.V1;
using V1Alpha = Grpc.Reflection.V1Alpha;

namespace MeshBulkheads.Gateway.Tests.Reflection;

/// <summary>Reflection and health are served by the gateway itself, without an API key.</summary>
public class ReflectionTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private const string PaymentsService = "meshbulkheads.payments.v1.PaymentsService";

    private static readonly string[] ExpectedServices =
    [
        PaymentsService,
        "meshbulkheads.reporting.v1.ReportingService",
        "meshbulkheads.render.v1.RenderService",
        "grpc.health.v1.Health",
    ];

    [Theory]
    [InlineData("grpc.reflection.v1alpha.ServerReflection")]
    [InlineData("grpc.reflection.v1.ServerReflection")]
    public async Task Reflection_NoKey_ListsServicesAndDescribesPayments(string reflectionService)
    {
        // Arrange: v1 and v1alpha are the same messages under two service names, so one pair of message types calls both.
        var method = new Method<V1Alpha.ServerReflectionRequest, V1Alpha.ServerReflectionResponse>(
            MethodType.DuplexStreaming,
            reflectionService,
            "ServerReflectionInfo",
            Marshallers.Create(m => m.ToByteArray(), V1Alpha.ServerReflectionRequest.Parser.ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), V1Alpha.ServerReflectionResponse.Parser.ParseFrom));
        using var call = fixture.Gateway.CreateChannel().CreateCallInvoker().AsyncDuplexStreamingCall(method, null, new CallOptions(cancellationToken: Ct));

        // Act
        await call.RequestStream.WriteAsync(new V1Alpha.ServerReflectionRequest { ListServices = string.Empty }, Ct).DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(Ct).DefaultTimeout());
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        await call.RequestStream.WriteAsync(new V1Alpha.ServerReflectionRequest { FileContainingSymbol = PaymentsService }, Ct).DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(Ct).DefaultTimeout());
        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto;
        await call.RequestStream.CompleteAsync().DefaultTimeout();

        // Assert
        Assert.All(ExpectedServices, s => Assert.Contains(s, services));
        Assert.Contains("grpc.reflection.v1.ServerReflection", services);
        Assert.Contains("grpc.reflection.v1alpha.ServerReflection", services);
        AssertDescribesPayments(files.Select(FileDescriptorProto.Parser.ParseFrom));
    }

    [Fact]
    public async Task HealthCheck_NoKey_LivenessServedByGateway()
    {
        // Arrange
        var client = new Health.HealthClient(fixture.Gateway.CreateChannel());

        // Act
        var response = await client.CheckAsync(new HealthCheckRequest { Service = "meshbulkheads.liveness" }, cancellationToken: Ct).ResponseAsync.DefaultTimeout();

        // Assert
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    private static void AssertDescribesPayments(IEnumerable<FileDescriptorProto> files)
    {
        var file = Assert.Single(files, f => f.Package == "meshbulkheads.payments.v1");
        var service = Assert.Single(file.Service, s => s.Name == "PaymentsService");
        Assert.Equal(["Charge", "GetBalance", "ListPayments"], service.Method.Select(m => m.Name).Order());
    }
}
