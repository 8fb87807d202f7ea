using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Concurrency.Tests.Rejections;

public sealed class BulkheadRejectionMapperTests
{
    [Theory]
    [InlineData(BulkheadRejectionReason.QueueFull, StatusCode.Unavailable, "queue-full", true)]
    [InlineData(BulkheadRejectionReason.QueueTimeout, StatusCode.Unavailable, "queue-timeout", true)]
    [InlineData(BulkheadRejectionReason.AdaptiveLimit, StatusCode.Unavailable, "adaptive-limit", true)]
    [InlineData(BulkheadRejectionReason.TenantShare, StatusCode.Unavailable, "tenant-share", true)]
    [InlineData(BulkheadRejectionReason.DeadlineUnmeetable, StatusCode.DeadlineExceeded, "deadline-unmeetable", false)]
    [InlineData(BulkheadRejectionReason.DeadlineExceeded, StatusCode.DeadlineExceeded, "deadline-exceeded", false)]
    [InlineData(BulkheadRejectionReason.Canceled, StatusCode.Cancelled, "canceled", false)]
    public void ToRejection_EachReason_MapsStatusReasonAndPushback(BulkheadRejectionReason reason, StatusCode status, string code, bool pushback)
    {
        // Arrange
        var lease = new BulkheadLease(reason, TimeSpan.Zero, pushback ? TimeSpan.FromMilliseconds(1234.2) : null);

        // Act
        var error = BulkheadRejectionMapper.ToRejection(lease, "render").ToRpcException();

        // Assert
        Assert.Equal(status, error.StatusCode);
        Assert.Equal(code, error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal(pushback ? "1235" : null, error.Trailers.GetValue(MeshMetadata.RetryPushbackMs));
        Assert.Equal(pushback ? "2" : null, error.Trailers.GetValue(MeshMetadata.RetryAfter));
        Assert.Contains("render", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_PlainHttp_Writes503WithRetryAfter()
    {
        // Arrange
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        var lease = new BulkheadLease(BulkheadRejectionReason.QueueFull, TimeSpan.Zero, TimeSpan.FromSeconds(3));

        // Act
        await BulkheadRejectionMapper.ToRejection(lease, "render").WriteAsync(context);

        // Assert
        Assert.Equal(503, context.Response.StatusCode);
        Assert.Equal("3", context.Response.Headers[MeshMetadata.RetryAfter]);
        Assert.Equal("queue-full", context.Response.Headers[MeshMetadata.RejectReason]);
    }

    [Fact]
    public async Task WriteAsync_GrpcRequest_WritesTrailersOnlyHeaders()
    {
        // Arrange
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.ContentType = "application/grpc";
        var lease = new BulkheadLease(BulkheadRejectionReason.QueueTimeout, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(200));

        // Act
        await BulkheadRejectionMapper.ToRejection(lease, "render").WriteAsync(context);

        // Assert
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal("14", context.Response.Headers["grpc-status"]);
        Assert.Equal("200", context.Response.Headers[MeshMetadata.RetryPushbackMs]);
        Assert.Equal("queue-timeout", context.Response.Headers[MeshMetadata.RejectReason]);
    }

    [Fact]
    public void Metadata_ReasonReplaced_ReplacesOnlyTheReason()
    {
        // Arrange
        var lease = new BulkheadLease(BulkheadRejectionReason.TenantShare, TimeSpan.Zero, TimeSpan.FromMilliseconds(300));

        // Act
        var metadata = (BulkheadRejectionMapper.ToRejection(lease, "route") with { Reason = "route-overloaded" }).Metadata;

        // Assert
        Assert.Equal(
            [new(MeshMetadata.RejectReason, "route-overloaded"), new(MeshMetadata.RetryPushbackMs, "300"), new(MeshMetadata.RetryAfter, "1")],
            metadata);
    }

    [Fact]
    public void Metadata_NoOverride_SendsTheLibraryReasonCode()
    {
        // Arrange
        var lease = new BulkheadLease(BulkheadRejectionReason.DeadlineExceeded, TimeSpan.Zero, null);

        // Act
        var metadata = BulkheadRejectionMapper.ToRejection(lease, "route").Metadata;

        // Assert
        Assert.Equal([new(MeshMetadata.RejectReason, "deadline-exceeded")], metadata);
    }

    [Theory]
    [InlineData(0, 50)]
    [InlineData(49, 50)]
    [InlineData(1500, 1500)]
    [InlineData(120_000, 30_000)]
    public void BoundRetryAfter_AnyEstimate_Within50MsAnd30S(int estimateMs, int expectedMs)
    {
        // Act
        var bounded = BulkheadRejectionMapper.BoundRetryAfter(TimeSpan.FromMilliseconds(estimateMs));

        // Assert
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), bounded);
    }
}
