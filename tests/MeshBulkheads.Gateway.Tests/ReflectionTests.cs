using Google.Protobuf.Reflection;
using Grpc.Health.V1;
using MeshBulkheads.Testing;
using V1 = Grpc.Reflection.V1;
using V1Alpha = Grpc.Reflection.V1Alpha;

namespace MeshBulkheads.Gateway.Tests;

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

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReflectionV1Alpha_NoKey_ListsServicesAndDescribesPayments()
    {
        // Arrange
        var client = new V1Alpha.ServerReflection.ServerReflectionClient(fixture.Gateway.CreateChannel());
        using var call = client.ServerReflectionInfo(cancellationToken: Ct);

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
        AssertDescribesPayments(files.Select(FileDescriptorProto.Parser.ParseFrom));
    }

    [Fact]
    public async Task ReflectionV1_NoKey_ListsServicesAndDescribesPayments()
    {
        // Arrange
        var client = new V1.ServerReflection.ServerReflectionClient(fixture.Gateway.CreateChannel());
        using var call = client.ServerReflectionInfo(cancellationToken: Ct);

        // Act
        await call.RequestStream.WriteAsync(new V1.ServerReflectionRequest { ListServices = string.Empty }, Ct).DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(Ct).DefaultTimeout());
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        await call.RequestStream.WriteAsync(new V1.ServerReflectionRequest { FileContainingSymbol = PaymentsService }, Ct).DefaultTimeout();
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
