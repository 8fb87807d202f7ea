using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Concurrency.Tests.Rejections;

public sealed class MeshRejectionTests
{
    [Theory]
    [InlineData(0.0, "1", "1")]
    [InlineData(0.2, "1", "1")]
    [InlineData(999.1, "1000", "1")]
    [InlineData(1000.0, "1000", "1")]
    [InlineData(1000.5, "1001", "2")]
    [InlineData(99_995.0, "99995", "100")]
    public void PushbackMetadata_RetryAfter_RoundsBothUpToAtLeastOne(double milliseconds, string pushbackMs, string retryAfter)
    {
        // Arrange
        var wait = TimeSpan.FromMilliseconds(milliseconds);

        // Act
        var metadata = MeshRejection.PushbackMetadata(wait);

        // Assert
        Assert.Equal(
            [new(MeshMetadata.RetryPushbackMs, pushbackMs), new(MeshMetadata.RetryAfter, retryAfter)],
            metadata);
    }

    [Fact]
    public void ToRpcException_ServiceReasonWithRetryAfter_SameWireShapeAsBulkheadRejection()
    {
        // Arrange
        var retryAfter = TimeSpan.FromMilliseconds(1200.4);

        // Act
        var error = new MeshRejection(StatusCode.Unavailable, "db-pool-timeout", "No connection became free.", retryAfter).ToRpcException();

        // Assert
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("No connection became free.", error.Status.Detail);
        Assert.Equal("db-pool-timeout", error.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal("1201", error.Trailers.GetValue(MeshMetadata.RetryPushbackMs));
        Assert.Equal("2", error.Trailers.GetValue(MeshMetadata.RetryAfter));
        Assert.Equal(3, error.Trailers.Count);
    }

    [Fact]
    public void ToRpcException_NoRetryAfter_ReasonOnlyNoPushback()
    {
        // Act
        var error = new MeshRejection(StatusCode.DeadlineExceeded, "downstream-budget-exhausted", "Not enough deadline left.").ToRpcException();

        // Assert
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        var entry = Assert.Single(error.Trailers);
        Assert.Equal(MeshMetadata.RejectReason, entry.Key);
        Assert.Equal("downstream-budget-exhausted", entry.Value);
    }
}
