using MeshBulkheads.Concurrency.Rejections;

namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public class BulkheadExecuteTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task ExecuteAsync_PermitFree_RunsTheWorkUnderAPermitAndReleasesIt()
    {
        // Arrange
        using var bulkhead = new Bulkhead("exec", new BulkheadOptions { PermitLimit = 1, QueueLimit = 0 }, _time);
        var activeDuringWork = -1;

        // Act
        var result = await bulkhead.ExecuteAsync(BulkheadRequest.Default, _ =>
        {
            activeDuringWork = bulkhead.ActiveCount;
            return ValueTask.FromResult(42);
        }, TestContext.Current.CancellationToken).AsTask().DefaultTimeout();

        // Assert
        Assert.Equal(42, result);
        Assert.Equal(1, activeDuringWork);
        Assert.Equal(0, bulkhead.ActiveCount);
    }

    [Fact]
    public async Task ExecuteAsync_WorkThrows_PermitStillReleased()
    {
        // Arrange
        using var bulkhead = new Bulkhead("exec", new BulkheadOptions { PermitLimit = 1, QueueLimit = 0 }, _time);

        // Act
        await Assert.ThrowsAsync<InvalidOperationException>(() => bulkhead.ExecuteAsync<int>(
            BulkheadRequest.Default, _ => throw new InvalidOperationException("boom"), TestContext.Current.CancellationToken).AsTask());

        // Assert
        Assert.Equal(0, bulkhead.ActiveCount);
    }

    [Fact]
    public async Task ExecuteAsync_QueueFull_ThrowsRejectedExceptionAndNeverRunsTheWork()
    {
        // Arrange: the only permit is held, and there is no queue.
        using var bulkhead = new Bulkhead("exec", new BulkheadOptions { PermitLimit = 1, QueueLimit = 0 }, _time);
        using var held = await bulkhead.AcquireAsync(BulkheadRequest.Default, TestContext.Current.CancellationToken);
        var ran = false;

        // Act
        var error = await Assert.ThrowsAsync<BulkheadRejectedException>(() => bulkhead.ExecuteAsync(BulkheadRequest.Default, _ =>
        {
            ran = true;
            return ValueTask.FromResult(0);
        }, TestContext.Current.CancellationToken).AsTask());

        // Assert
        Assert.False(ran);
        Assert.Equal("exec", error.Rejection.BulkheadName);
        Assert.Equal(BulkheadRejectionReason.QueueFull, error.Rejection.Reason);
        Assert.NotNull(error.Rejection.RetryAfter);
        Assert.Contains("exec", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToRejection_RejectedException_SameWireShapeAsTheRejectedLease()
    {
        // Arrange
        var rejection = new BulkheadRejectedArguments("exec", BulkheadRejectionReason.QueueFull, TimeSpan.Zero, TimeSpan.FromMilliseconds(750));
        var fromLease = BulkheadRejectionMapper.ToRejection(new BulkheadLease(rejection.Reason, rejection.QueueTime, rejection.RetryAfter), "exec").ToRpcException();

        // Act
        var fromException = BulkheadRejectionMapper.ToRejection(new BulkheadRejectedException(rejection)).ToRpcException();

        // Assert
        Assert.Equal(StatusCode.Unavailable, fromException.StatusCode);
        Assert.Equal(fromLease.Status.Detail, fromException.Status.Detail);
        Assert.Equal("queue-full", fromException.Trailers.GetValue(MeshMetadata.RejectReason));
        Assert.Equal("750", fromException.Trailers.GetValue(MeshMetadata.RetryPushbackMs));
    }

    [Fact]
    public void ToRejection_ExceptionWithoutRefusal_Throws()
    {
        Assert.Throws<ArgumentException>(() => BulkheadRejectionMapper.ToRejection(new BulkheadRejectedException("no details")));
    }
}
