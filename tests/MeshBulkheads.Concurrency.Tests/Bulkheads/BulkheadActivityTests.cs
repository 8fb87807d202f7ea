using System.Diagnostics;

namespace MeshBulkheads.Concurrency.Tests.Bulkheads;

public sealed class BulkheadActivityTests
{
    [Fact]
    public void Record_RejectedLease_SetsTagsAndAddsDequeuedEventWithResult()
    {
        // Arrange
        using var activity = new Activity("test").Start();
        var lease = new BulkheadLease(BulkheadRejectionReason.QueueTimeout, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1));

        // Act
        BulkheadActivity.Record(activity, "render", lease);

        // Assert
        Assert.Equal(0.25, activity.GetTagItem(BulkheadConstants.QueueTimeActivityTag));
        Assert.Equal("render", activity.GetTagItem(BulkheadConstants.BulkheadTag));
        var dequeued = Assert.Single(activity.Events);
        Assert.Equal(BulkheadConstants.QueueActivityEvent, dequeued.Name);
        var tags = dequeued.Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal("render", tags[BulkheadConstants.BulkheadTag]);
        Assert.Equal(BulkheadConstants.Results.QueueTimeout, tags[BulkheadConstants.ResultTag]);
        Assert.Equal(0.25, tags[BulkheadConstants.QueueTimeActivityTag]);
    }

    [Fact]
    public void Record_NoActivity_DoesNothing()
    {
        // Arrange
        var lease = new BulkheadLease(BulkheadRejectionReason.QueueFull, TimeSpan.Zero, null);

        // Act
        var error = Record.Exception(() => BulkheadActivity.Record(null, "render", lease));

        // Assert
        Assert.Null(error);
    }
}
