
namespace MeshBulkheads.ServiceDefaults.Tests.Telemetry;

public class GrpcMetricsTests
{
    [Fact]
    public void Tags_FullMethod_SplitsServiceMethodAndStatus()
    {
        // Act
        var tags = GrpcMetrics.Tags("/meshbulkheads.payments.v1.PaymentsService/Charge", StatusCode.Unavailable);

        // Assert
        var dict = tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal("grpc", dict["rpc.system"]);
        Assert.Equal("meshbulkheads.payments.v1.PaymentsService", dict["rpc.service"]);
        Assert.Equal("Charge", dict["rpc.method"]);
        Assert.Equal("UNAVAILABLE", dict["rpc.grpc.status_code"]);
    }

    [Theory]
    [InlineData(StatusCode.OK, "OK")]
    [InlineData(StatusCode.DeadlineExceeded, "DEADLINE_EXCEEDED")]
    [InlineData(StatusCode.ResourceExhausted, "RESOURCE_EXHAUSTED")]
    [InlineData((StatusCode)99, "UNKNOWN")]
    public void StatusName_Code_IsCanonicalName(StatusCode code, string expected)
    {
        Assert.Equal(expected, GrpcMetrics.StatusName(code));
    }
}
