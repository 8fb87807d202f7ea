using Grpc.Health.V1;
using MeshBulkheads.Gateway.Forwarding;

namespace MeshBulkheads.Gateway.Tests.Forwarding;

/// <summary>The gateway resolves the exact gRPC method first; anything else is UNIMPLEMENTED and goes nowhere.</summary>
public class MethodResolutionTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Theory]
    [InlineData("/MESHBULKHEADS.payments.v1.PaymentsService/GETBALANCE", "case-sensitive")]
    [InlineData("/meshbulkheads.payments.v1.PaymentsService/getbalance", "case-sensitive")]
    [InlineData("/meshbulkheads.payments.v1.paymentsservice/GetBalance", "case-sensitive")]
    [InlineData("/meshbulkheads.payments.v1.PaymentsService/Refund", "'/meshbulkheads.payments.v1.PaymentsService/Refund'")]
    public async Task GetBalance_CaseVariantOrUnknownMethodWithKey_UnimplementedByTheGatewayAndNotForwarded(string path, string expectedInMessage)
    {
        // Arrange: a case variant of GetBalance (the message says matching is case-sensitive), or a method payments does not have.
        var request = new GetBalanceRequest { AccountId = "acct-" + Guid.NewGuid().ToString("N") };

        // Act
        var outcome = await RawGrpc.CallAsync(fixture.Gateway.Endpoints.Grpc, path, request, DemoTenants.AcmeKey, Ct);

        // Assert
        Assert.Equal(StatusCode.Unimplemented, outcome.Status);
        Assert.Equal(MeshRejectReasons.UnknownMethod, outcome.Reason);
        Assert.Contains(expectedInMessage, outcome.Message, StringComparison.Ordinal);
        Assert.Empty(fixture.Payments.CallsFor(request));
    }

    [Fact]
    public async Task CaseVariantPath_WithoutKey_UnimplementedBeforeAuthentication()
    {
        // Act
        var outcome = await RawGrpc.CallAsync(fixture.Gateway.Endpoints.Grpc, "/meshbulkheads.payments.v1.PaymentsService/CHARGE", new ChargeRequest(), apiKey: null, Ct);

        // Assert
        Assert.Equal(StatusCode.Unimplemented, outcome.Status);
        Assert.Equal(MeshRejectReasons.UnknownMethod, outcome.Reason);
    }

    [Fact]
    public async Task HealthCheck_CaseVariantPath_Unimplemented()
    {
        // Act
        var outcome = await RawGrpc.CallAsync(fixture.Gateway.Endpoints.Grpc, "/grpc.health.v1.health/check", new HealthCheckRequest { Service = "meshbulkheads.liveness" }, apiKey: null, Ct);

        // Assert
        Assert.Equal(StatusCode.Unimplemented, outcome.Status);
    }

    [Fact]
    public async Task HealthCheck_ExactPath_StillServed()
    {
        // Act
        var outcome = await RawGrpc.CallAsync(fixture.Gateway.Endpoints.Grpc, "/grpc.health.v1.Health/Check", new HealthCheckRequest { Service = "meshbulkheads.liveness" }, apiKey: null, Ct);

        // Assert
        Assert.Equal(StatusCode.OK, outcome.Status);
    }

    [Fact]
    public void Resolve_ContractMethods_ExactAndCaseSensitiveWithChargeCritical()
    {
        // Act
        var charge = GatewayMethods.Resolve("/meshbulkheads.payments.v1.PaymentsService/Charge");
        var balance = GatewayMethods.Resolve("/meshbulkheads.payments.v1.PaymentsService/GetBalance");
        var variant = GatewayMethods.Resolve("/meshbulkheads.payments.v1.PaymentsService/charge");
        var trailing = GatewayMethods.Resolve("/meshbulkheads.payments.v1.PaymentsService/Charge/");

        // Assert: the criticality of each comes from the shipped Criticality:* table, keyed by the resolved method.
        var criticality = fixture.Gateway.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<CriticalityOptions>>().Value;
        Assert.Equal(MeshBulkheads.Concurrency.Bulkheads.BulkheadCriticality.Critical, criticality.Resolve(charge!.Path));
        Assert.Equal(MeshBulkheads.Concurrency.Bulkheads.BulkheadCriticality.Sheddable, criticality.Resolve(balance!.Path));
        Assert.Null(variant);
        Assert.Null(trailing);
        Assert.Contains("/meshbulkheads.render.v1.RenderService/Render", GatewayMethods.All.Keys);
        Assert.Contains("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", GatewayMethods.All.Keys);
    }

    [Fact]
    public void Resolve_RenderRows_StreamingRenderMethodWithRenderDeadlineAndSheddable()
    {
        // Act
        var rows = GatewayMethods.Resolve("/meshbulkheads.render.v1.RenderService/RenderRows");
        var render = GatewayMethods.Resolve("/meshbulkheads.render.v1.RenderService/Render");

        // Assert: routed by the render prefix, so it gets render's deadline policy and the default criticality;
        // streaming, so its route permit is long-lived.
        var criticality = fixture.Gateway.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<CriticalityOptions>>().Value;
        var deadline = fixture.Gateway.Services.GetRequiredService<MeshBulkheads.Concurrency.Deadlines.DeadlineResolver>().Policies.Resolve(rows!.Path);
        Assert.Equal("meshbulkheads.render.v1.RenderService", rows.Service);
        Assert.True(rows.IsStreaming);
        Assert.False(render!.IsStreaming);
        Assert.Equal(MeshBulkheads.Concurrency.Bulkheads.BulkheadCriticality.Sheddable, criticality.Resolve(rows.Path));
        Assert.Equal((TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60)), (deadline.Default, deadline.Max));
    }
}
