using MeshBulkheads.Concurrency.Bulkheads;
using MeshBulkheads.Concurrency.Deadlines;

namespace MeshBulkheads.Payments;

/// <summary>
/// Admission for payments: critical charges and sheddable reads (reporting's fan-out) have separate
/// bulkheads, so a flood of reads is shed at its own door and never takes a charge's permit. The numbers
/// are code defaults; <c>Bulkheads:&lt;name&gt;:*</c> and <c>Deadlines:Methods:&lt;prefix&gt;:*</c> override them.
/// Sizing (Little's law, measured here) is in the README.
/// </summary>
public static class PaymentsBulkheads
{
    /// <summary>The bulkhead guarding <c>Charge</c>.</summary>
    public const string Charge = "payments-charge";

    /// <summary>The bulkhead guarding <c>GetBalance</c> and <c>ListPayments</c>.</summary>
    public const string Read = "payments-read";

    /// <summary>Prefix of every payments method.</summary>
    public const string ServicePrefix = "/meshbulkheads.payments.v1.PaymentsService/";

    /// <summary>The full name of <c>Charge</c>.</summary>
    public const string ChargeMethod = ServicePrefix + "Charge";

    /// <summary>Registers both bulkheads, their routes and the per-method deadline defaults.</summary>
    public static IServiceCollection AddPaymentsBulkheads(this IServiceCollection services)
    {
        services.AddBulkheads()
            // FIFO, never LIFO: a charge's order matters to its account. 32 permits ≈ 2 × the partition
            // consumers, so every mailbox can be fed while the rest wait here, bounded.
            .AddBulkhead(Charge, o =>
            {
                o.PermitLimit = 32;
                o.QueueLimit = 64;
                o.QueueProcessingOrder = BulkheadQueueOrder.Fifo;
                o.MaxQueueTime = TimeSpan.FromSeconds(1);
            })
            // Reads are sheddable and unordered: newest-first under congestion, short queue time.
            .AddBulkhead(Read, o =>
            {
                o.PermitLimit = 16;
                o.QueueLimit = 32;
                o.QueueProcessingOrder = BulkheadQueueOrder.AdaptiveLifo;
                o.MaxQueueTime = TimeSpan.FromMilliseconds(250);
                o.CongestionThreshold = TimeSpan.FromMilliseconds(50);
            })
            // Deadline code defaults; Deadlines:Methods:<prefix>:* in configuration overrides each value.
            .MapMethods(ChargeMethod, Charge, new DeadlineOptions { Default = TimeSpan.FromSeconds(5), Max = TimeSpan.FromSeconds(30) })
            .MapMethods(ServicePrefix, Read, new DeadlineOptions { Default = TimeSpan.FromSeconds(2), Max = TimeSpan.FromSeconds(10) }); // longest prefix wins: everything but Charge
        return services;
    }
}
