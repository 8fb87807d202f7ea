using Grpc.Core;

namespace MeshBulkheads.Testing;

/// <summary>Outcomes of calls a test fires in bulk and tallies rather than asserting one by one.</summary>
public static class CallStatus
{
    /// <summary>The status <paramref name="call"/> ended with: <see cref="StatusCode.OK"/> when it succeeded, its <see cref="RpcException"/>'s status otherwise (any other exception propagates).</summary>
    public static async Task<StatusCode> OfAsync(Task call)
    {
        try
        {
            await call;
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }
}
