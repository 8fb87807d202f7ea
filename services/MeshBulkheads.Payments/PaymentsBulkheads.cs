namespace MeshBulkheads.Payments;

/// <summary>
/// The names of payments' admission: critical charges and sheddable reads (reporting's fan-out) have separate
/// bulkheads, so a flood of reads is shed at its own door and never takes a charge's permit. Registered by
/// <c>AddPaymentsBulkheads()</c>; sizing (Little's law, measured here) is in the README.
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

    /// <summary>Largest share of <c>payments-charge</c>'s permits + queue slots one tenant may hold.</summary>
    public const double ChargeTenantMaxShare = 0.5;

    /// <summary>Largest share of <c>payments-read</c>'s permits + queue slots one tenant may hold.</summary>
    public const double ReadTenantMaxShare = 0.5;
}
