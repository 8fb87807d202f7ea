using MeshBulkheads.Concurrency.Deadlines;
using Microsoft.Extensions.Options;

namespace MeshBulkheads.Render;

/// <summary>
/// The library checks <c>MaxQueueTime</c> &lt; default deadline only for methods routed through the
/// bulkhead interceptor; render acquires its bulkhead in the dispatcher (after validating the request),
/// so the same rule is checked here: a render that may wait in the queue longer than its whole
/// default deadline would time out in the queue instead of being shed with a pushback.
/// </summary>
public sealed class RenderDeadlineValidation(IOptions<RenderOptions> render) : IValidateOptions<DeadlinePolicyOptions>
{
    public ValidateOptionsResult Validate(string? name, DeadlinePolicyOptions options)
    {
        var policy = options.Resolve(RenderServiceCollectionExtensions.MethodPrefix + "Render");
        var maxQueueTime = render.Value.MaxQueueTime;
        return maxQueueTime < policy.Default
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Render:MaxQueueTime ({maxQueueTime}) must be below the Render method's default deadline ({policy.Default}, " +
                $"Deadlines:Methods:{RenderServiceCollectionExtensions.MethodPrefix}:Default), or queued renders would time out instead of being shed.");
    }
}
