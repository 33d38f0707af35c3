//! Schema migrations, written once with sea-query's builder so the same
//! definitions create the SQLite and the PostgreSQL schema.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(M0001Registry), Box::new(M0002ScanLine), Box::new(M0003Access), Box::new(M0004Corrections)]
    }
}

#[derive(DeriveMigrationName)]
struct M0001Registry;

#[derive(DeriveIden)]
enum Sites {
    Table,
    Id,
    OrgCode,
    SiteCode,
    Name,
    NumberPattern,
    AutoCreateDossiers,
    LastSeq,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
    SiteId,
    Building,
    Unit,
    Floor,
    Room,
}

#[derive(DeriveIden)]
enum Customers {
    Table,
    Id,
    SiteId,
    Kind,
    Name,
    Gender,
    PhoneEnc,
    PhoneIdx,
    IdNumberEnc,
    IdNumberIdx,
    LicenceNo,
    Residency,
    Ownership,
    Employer,
    Address,
    PrivateEnc,
    RequestId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CustomerNameGrams {
    Table,
    Gram,
    CustomerId,
}

#[derive(DeriveIden)]
enum Dossiers {
    Table,
    Id,
    SiteId,
    UnitId,
    ArchiveNumber,
    Seq,
    Class,
    Status,
    Security,
    Retention,
    RetainUntil,
    Cabinet,
    BoxNo,
    Position,
    Notes,
    PredecessorId,
    SuccessorId,
    Version,
    RequestId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DossierParties {
    Table,
    DossierId,
    CustomerId,
    Role,
}

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    DossierId,
    DocType,
    Title,
    PageCount,
    Status,
    FieldsEnc,
    ReceivedOn,
    RequestId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DossierHistory {
    Table,
    Id,
    DossierId,
    Kind,
    Actor,
    Reason,
    Summary,
    Details,
    OccurredAt,
}

fn fk(from: (impl IntoIden, impl IntoIden), to: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Restrict).take()
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>, unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table).if_not_exists();
    for c in cols {
        i.col(c);
    }
    if unique {
        i.unique();
    }
    i.take()
}

macro_rules! cols { ($($c:expr),*) => { vec![$($c.into_iden()),*] } }

#[async_trait::async_trait]
impl MigrationTrait for M0001Registry {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Sites::Table)
                .if_not_exists()
                .col(big_pk_auto(Sites::Id))
                .col(string_len(Sites::OrgCode, 16))
                .col(string_len(Sites::SiteCode, 16))
                .col(string_len(Sites::Name, 200))
                .col(string_len(Sites::NumberPattern, 100))
                .col(boolean(Sites::AutoCreateDossiers))
                .col(big_integer(Sites::LastSeq))
                .col(timestamp_with_time_zone(Sites::CreatedAt))
                .take(),
        )
        .await?;
        m.create_index(index("ux_sites_codes", Sites::Table, cols!(Sites::OrgCode, Sites::SiteCode), true)).await?;

        m.create_table(
            Table::create()
                .table(Units::Table)
                .if_not_exists()
                .col(big_pk_auto(Units::Id))
                .col(big_integer(Units::SiteId))
                .col(string_len(Units::Building, 16))
                .col(string_len(Units::Unit, 16))
                .col(integer(Units::Floor))
                .col(string_len(Units::Room, 16))
                .foreign_key(&mut fk((Units::Table, Units::SiteId), (Sites::Table, Sites::Id)))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ux_units_address",
            Units::Table,
            cols!(Units::SiteId, Units::Building, Units::Unit, Units::Room, Units::Floor),
            true,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Customers::Table)
                .if_not_exists()
                .col(big_pk_auto(Customers::Id))
                .col(big_integer(Customers::SiteId))
                .col(string_len(Customers::Kind, 16))
                .col(string_len(Customers::Name, 100))
                .col(string_len(Customers::Gender, 16))
                .col(blob_null(Customers::PhoneEnc))
                .col(blob_null(Customers::PhoneIdx))
                .col(blob_null(Customers::IdNumberEnc))
                .col(blob_null(Customers::IdNumberIdx))
                .col(string_len_null(Customers::LicenceNo, 32))
                .col(string_len(Customers::Residency, 16))
                .col(string_len(Customers::Ownership, 16))
                .col(string_len(Customers::Employer, 200))
                .col(string_len(Customers::Address, 200))
                .col(blob(Customers::PrivateEnc))
                .col(string_len_null(Customers::RequestId, 64))
                .col(timestamp_with_time_zone(Customers::CreatedAt))
                .col(timestamp_with_time_zone(Customers::UpdatedAt))
                .foreign_key(&mut fk((Customers::Table, Customers::SiteId), (Sites::Table, Sites::Id)))
                .take(),
        )
        .await?;
        m.create_index(index("ix_customers_phone", Customers::Table, cols!(Customers::PhoneIdx), false)).await?;
        m.create_index(index("ix_customers_id_number", Customers::Table, cols!(Customers::IdNumberIdx), false)).await?;
        m.create_index(index("ix_customers_site", Customers::Table, cols!(Customers::SiteId), false)).await?;
        m.create_index(index("ux_customers_request", Customers::Table, cols!(Customers::RequestId), true)).await?;

        m.create_table(
            Table::create()
                .table(CustomerNameGrams::Table)
                .if_not_exists()
                .col(string_len(CustomerNameGrams::Gram, 16))
                .col(big_integer(CustomerNameGrams::CustomerId))
                .primary_key(Index::create().col(CustomerNameGrams::Gram).col(CustomerNameGrams::CustomerId))
                .foreign_key(&mut fk(
                    (CustomerNameGrams::Table, CustomerNameGrams::CustomerId),
                    (Customers::Table, Customers::Id),
                ))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Dossiers::Table)
                .if_not_exists()
                .col(big_pk_auto(Dossiers::Id))
                .col(big_integer(Dossiers::SiteId))
                .col(big_integer(Dossiers::UnitId))
                .col(string_len(Dossiers::ArchiveNumber, 64))
                .col(big_integer(Dossiers::Seq))
                .col(string_len(Dossiers::Class, 32))
                .col(string_len(Dossiers::Status, 16))
                .col(string_len(Dossiers::Security, 16))
                .col(string_len(Dossiers::Retention, 16))
                .col(date_null(Dossiers::RetainUntil))
                .col(string_len(Dossiers::Cabinet, 32))
                .col(string_len(Dossiers::BoxNo, 32))
                .col(string_len(Dossiers::Position, 32))
                .col(text(Dossiers::Notes))
                .col(big_integer_null(Dossiers::PredecessorId))
                .col(big_integer_null(Dossiers::SuccessorId))
                .col(big_integer(Dossiers::Version))
                .col(string_len_null(Dossiers::RequestId, 64))
                .col(timestamp_with_time_zone(Dossiers::CreatedAt))
                .col(timestamp_with_time_zone(Dossiers::UpdatedAt))
                .foreign_key(&mut fk((Dossiers::Table, Dossiers::SiteId), (Sites::Table, Sites::Id)))
                .foreign_key(&mut fk((Dossiers::Table, Dossiers::UnitId), (Units::Table, Units::Id)))
                .take(),
        )
        .await?;
        m.create_index(index("ux_dossiers_number", Dossiers::Table, cols!(Dossiers::ArchiveNumber), true)).await?;
        m.create_index(index("ux_dossiers_site_seq", Dossiers::Table, cols!(Dossiers::SiteId, Dossiers::Seq), true))
            .await?;
        m.create_index(index("ux_dossiers_request", Dossiers::Table, cols!(Dossiers::RequestId), true)).await?;
        m.create_index(index("ix_dossiers_unit", Dossiers::Table, cols!(Dossiers::UnitId), false)).await?;

        m.create_table(
            Table::create()
                .table(DossierParties::Table)
                .if_not_exists()
                .col(big_integer(DossierParties::DossierId))
                .col(big_integer(DossierParties::CustomerId))
                .col(string_len(DossierParties::Role, 16))
                .primary_key(Index::create().col(DossierParties::DossierId).col(DossierParties::CustomerId))
                .foreign_key(&mut fk(
                    (DossierParties::Table, DossierParties::DossierId),
                    (Dossiers::Table, Dossiers::Id),
                ))
                .foreign_key(&mut fk(
                    (DossierParties::Table, DossierParties::CustomerId),
                    (Customers::Table, Customers::Id),
                ))
                .take(),
        )
        .await?;
        m.create_index(index("ix_parties_customer", DossierParties::Table, cols!(DossierParties::CustomerId), false))
            .await?;

        m.create_table(
            Table::create()
                .table(Documents::Table)
                .if_not_exists()
                .col(big_pk_auto(Documents::Id))
                .col(big_integer(Documents::DossierId))
                .col(string_len(Documents::DocType, 64))
                .col(string_len(Documents::Title, 200))
                .col(integer(Documents::PageCount))
                .col(string_len(Documents::Status, 16))
                .col(blob(Documents::FieldsEnc))
                .col(date(Documents::ReceivedOn))
                .col(string_len_null(Documents::RequestId, 64))
                .col(timestamp_with_time_zone(Documents::CreatedAt))
                .foreign_key(&mut fk((Documents::Table, Documents::DossierId), (Dossiers::Table, Dossiers::Id)))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_documents_dossier",
            Documents::Table,
            cols!(Documents::DossierId, Documents::DocType),
            false,
        ))
        .await?;
        m.create_index(index("ux_documents_request", Documents::Table, cols!(Documents::RequestId), true)).await?;

        m.create_table(
            Table::create()
                .table(DossierHistory::Table)
                .if_not_exists()
                .col(big_pk_auto(DossierHistory::Id))
                .col(big_integer(DossierHistory::DossierId))
                .col(string_len(DossierHistory::Kind, 32))
                .col(string_len(DossierHistory::Actor, 100))
                .col(text(DossierHistory::Reason))
                .col(text(DossierHistory::Summary))
                .col(text(DossierHistory::Details))
                .col(timestamp_with_time_zone(DossierHistory::OccurredAt))
                .foreign_key(&mut fk(
                    (DossierHistory::Table, DossierHistory::DossierId),
                    (Dossiers::Table, Dossiers::Id),
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_history_dossier",
            DossierHistory::Table,
            cols!(DossierHistory::DossierId, DossierHistory::Id),
            false,
        ))
        .await?;
        Ok(())
    }
}

/// The scan line: batches, their files, one job per page, the outbox the
/// relay publishes from, and review tasks.
struct M0002ScanLine;

// Named by hand: the derive names a migration after its file, and both live here.
impl MigrationName for M0002ScanLine {
    fn name(&self) -> &str {
        "m0002_scan_line"
    }
}

#[derive(DeriveIden)]
enum ScanBatches {
    Table,
    Id,
    BatchKey,
    SiteId,
    BoxNo,
    DossierId,
    CreatedBy,
    CreatedAt,
    RouteCursor,
    CoverDossierId,
}

#[derive(DeriveIden)]
enum ScanFiles {
    Table,
    Id,
    BatchId,
    FileIndex,
    Name,
    Sha256,
    Size,
    ObjectKey,
    Pages,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ScanJobs {
    Table,
    Id,
    BatchId,
    FileId,
    Seq,
    PageIndex,
    State,
    Reason,
    Form,
    CoverNumber,
    ResultEnc,
    NormalisedKey,
    ThumbnailKey,
    Attempts,
    Routed,
    DossierId,
    DocumentId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ScanOutbox {
    Table,
    Id,
    JobId,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ReviewTasks {
    Table,
    Id,
    JobId,
    BatchId,
    Kind,
    FieldKey,
    SuggestedEnc,
    Confidence,
    Reason,
    DossierId,
    State,
    ResolvedEnc,
    ResolvedBy,
    CreatedAt,
    ResolvedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for M0002ScanLine {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ScanBatches::Table)
                .if_not_exists()
                .col(big_pk_auto(ScanBatches::Id))
                .col(string_len(ScanBatches::BatchKey, 64))
                .col(big_integer(ScanBatches::SiteId))
                .col(string_len(ScanBatches::BoxNo, 50))
                .col(big_integer_null(ScanBatches::DossierId))
                .col(string_len(ScanBatches::CreatedBy, 100))
                .col(timestamp_with_time_zone(ScanBatches::CreatedAt))
                .col(big_integer(ScanBatches::RouteCursor).default(0))
                .col(big_integer_null(ScanBatches::CoverDossierId))
                .foreign_key(&mut fk((ScanBatches::Table, ScanBatches::SiteId), (Sites::Table, Sites::Id)))
                .take(),
        )
        .await?;
        m.create_index(index("ux_scan_batches_key", ScanBatches::Table, cols!(ScanBatches::BatchKey), true)).await?;
        m.create_table(
            Table::create()
                .table(ScanFiles::Table)
                .if_not_exists()
                .col(big_pk_auto(ScanFiles::Id))
                .col(big_integer(ScanFiles::BatchId))
                .col(integer(ScanFiles::FileIndex))
                .col(string_len(ScanFiles::Name, 255))
                .col(string_len(ScanFiles::Sha256, 64))
                .col(big_integer(ScanFiles::Size))
                .col(string_len(ScanFiles::ObjectKey, 200))
                .col(integer(ScanFiles::Pages))
                .col(timestamp_with_time_zone(ScanFiles::CreatedAt))
                .foreign_key(&mut fk((ScanFiles::Table, ScanFiles::BatchId), (ScanBatches::Table, ScanBatches::Id)))
                .take(),
        )
        .await?;
        // One stored copy of a content: a file already uploaded (in any batch) is skipped.
        m.create_index(index("ux_scan_files_sha256", ScanFiles::Table, cols!(ScanFiles::Sha256), true)).await?;
        m.create_table(
            Table::create()
                .table(ScanJobs::Table)
                .if_not_exists()
                .col(big_pk_auto(ScanJobs::Id))
                .col(big_integer(ScanJobs::BatchId))
                .col(big_integer(ScanJobs::FileId))
                .col(big_integer(ScanJobs::Seq))
                .col(integer(ScanJobs::PageIndex))
                .col(string_len(ScanJobs::State, 16))
                .col(text(ScanJobs::Reason))
                .col(string_len(ScanJobs::Form, 40))
                .col(string_len(ScanJobs::CoverNumber, 64))
                .col(text(ScanJobs::ResultEnc))
                .col(string_len(ScanJobs::NormalisedKey, 200))
                .col(string_len(ScanJobs::ThumbnailKey, 200))
                .col(integer(ScanJobs::Attempts))
                .col(boolean(ScanJobs::Routed))
                .col(big_integer_null(ScanJobs::DossierId))
                .col(big_integer_null(ScanJobs::DocumentId))
                .col(timestamp_with_time_zone(ScanJobs::CreatedAt))
                .col(timestamp_with_time_zone(ScanJobs::UpdatedAt))
                .foreign_key(&mut fk((ScanJobs::Table, ScanJobs::BatchId), (ScanBatches::Table, ScanBatches::Id)))
                .foreign_key(&mut fk((ScanJobs::Table, ScanJobs::FileId), (ScanFiles::Table, ScanFiles::Id)))
                .take(),
        )
        .await?;
        m.create_index(index("ux_scan_jobs_seq", ScanJobs::Table, cols!(ScanJobs::BatchId, ScanJobs::Seq), true))
            .await?;
        m.create_index(index("ix_scan_jobs_state", ScanJobs::Table, cols!(ScanJobs::State), false)).await?;
        m.create_table(
            Table::create()
                .table(ScanOutbox::Table)
                .if_not_exists()
                .col(big_pk_auto(ScanOutbox::Id))
                .col(big_integer(ScanOutbox::JobId))
                .col(blob(ScanOutbox::Payload))
                .col(timestamp_with_time_zone(ScanOutbox::CreatedAt))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ReviewTasks::Table)
                .if_not_exists()
                .col(big_pk_auto(ReviewTasks::Id))
                .col(big_integer(ReviewTasks::JobId))
                .col(big_integer(ReviewTasks::BatchId))
                .col(string_len(ReviewTasks::Kind, 16))
                .col(string_len(ReviewTasks::FieldKey, 64))
                .col(text(ReviewTasks::SuggestedEnc))
                .col(float(ReviewTasks::Confidence))
                .col(text(ReviewTasks::Reason))
                .col(big_integer_null(ReviewTasks::DossierId))
                .col(string_len(ReviewTasks::State, 16))
                .col(text(ReviewTasks::ResolvedEnc))
                .col(string_len(ReviewTasks::ResolvedBy, 100))
                .col(timestamp_with_time_zone(ReviewTasks::CreatedAt))
                .col(timestamp_with_time_zone_null(ReviewTasks::ResolvedAt))
                .foreign_key(&mut fk((ReviewTasks::Table, ReviewTasks::JobId), (ScanJobs::Table, ScanJobs::Id)))
                .take(),
        )
        .await?;
        m.create_index(index("ix_review_state", ReviewTasks::Table, cols!(ReviewTasks::State, ReviewTasks::Id), false))
            .await?;
        Ok(())
    }
}

/// Principals and their tokens, access requests and grants, lending,
/// custody and hand-overs, and the hash-chained audit log with its head.
struct M0003Access;

impl MigrationName for M0003Access {
    fn name(&self) -> &str {
        "m0003_access"
    }
}

#[derive(DeriveIden)]
enum Principals {
    Table,
    Id,
    Name,
    Role,
    SiteId,
    Department,
    CustomerId,
    CertSha256,
    Disabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    PrincipalId,
    Label,
    Prefix,
    Hash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AccessRequests {
    Table,
    Id,
    RequesterId,
    Action,
    Purpose,
    Dossiers,
    Documents,
    DurationHours,
    SiteId,
    ApproverRoles,
    ApproverDepartment,
    State,
    DecidedBy,
    DecidedAt,
    Note,
    GrantId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AccessGrants {
    Table,
    Id,
    RequestId,
    PrincipalId,
    Action,
    SiteId,
    Dossiers,
    Documents,
    GrantedBy,
    CreatedAt,
    ExpiresAt,
    ExpiredAt,
}

#[derive(DeriveIden)]
enum Loans {
    Table,
    Id,
    DossierId,
    BorrowerId,
    LentBy,
    Approval,
    Purpose,
    LentAt,
    DueOn,
    Renewals,
    ReturnedAt,
    ReceivedBy,
    RefiledAt,
}

#[derive(DeriveIden)]
enum Custody {
    Table,
    DossierId,
    PrincipalId,
    Since,
}

#[derive(DeriveIden)]
enum Handovers {
    Table,
    Id,
    SiteId,
    FromId,
    ToId,
    ByName,
    At,
    Dossiers,
    Note,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Seq,
    AtMicros,
    PrincipalId,
    Principal,
    Role,
    Action,
    Outcome,
    Target,
    DossierId,
    SiteId,
    GrantId,
    Purpose,
    Client,
    Detail,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    Seq,
    Hash,
}

#[async_trait::async_trait]
impl MigrationTrait for M0003Access {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Principals::Table)
                .if_not_exists()
                .col(big_pk_auto(Principals::Id))
                .col(string_len(Principals::Name, 100))
                .col(string_len(Principals::Role, 32))
                .col(big_integer_null(Principals::SiteId))
                .col(string_len(Principals::Department, 100))
                .col(big_integer_null(Principals::CustomerId))
                .col(string_len_null(Principals::CertSha256, 64))
                .col(boolean(Principals::Disabled))
                .col(timestamp_with_time_zone(Principals::CreatedAt))
                .foreign_key(&mut fk((Principals::Table, Principals::SiteId), (Sites::Table, Sites::Id)))
                .foreign_key(&mut fk((Principals::Table, Principals::CustomerId), (Customers::Table, Customers::Id)))
                .take(),
        )
        .await?;
        m.create_index(index("ux_principals_name", Principals::Table, cols!(Principals::Name), true)).await?;
        m.create_table(
            Table::create()
                .table(ApiTokens::Table)
                .if_not_exists()
                .col(big_pk_auto(ApiTokens::Id))
                .col(big_integer(ApiTokens::PrincipalId))
                .col(string_len(ApiTokens::Label, 100))
                .col(string_len(ApiTokens::Prefix, 16))
                .col(string_len(ApiTokens::Hash, 64))
                .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                .foreign_key(&mut fk((ApiTokens::Table, ApiTokens::PrincipalId), (Principals::Table, Principals::Id)))
                .take(),
        )
        .await?;
        m.create_index(index("ux_api_tokens_hash", ApiTokens::Table, cols!(ApiTokens::Hash), true)).await?;
        m.create_table(
            Table::create()
                .table(AccessGrants::Table)
                .if_not_exists()
                .col(big_pk_auto(AccessGrants::Id))
                .col(big_integer_null(AccessGrants::RequestId))
                .col(big_integer(AccessGrants::PrincipalId))
                .col(string_len(AccessGrants::Action, 32))
                .col(big_integer_null(AccessGrants::SiteId))
                .col(text(AccessGrants::Dossiers))
                .col(text(AccessGrants::Documents))
                .col(string_len(AccessGrants::GrantedBy, 100))
                .col(timestamp_with_time_zone(AccessGrants::CreatedAt))
                .col(timestamp_with_time_zone(AccessGrants::ExpiresAt))
                .col(timestamp_with_time_zone_null(AccessGrants::ExpiredAt))
                .foreign_key(&mut fk(
                    (AccessGrants::Table, AccessGrants::PrincipalId),
                    (Principals::Table, Principals::Id),
                ))
                .take(),
        )
        .await?;
        m.create_index(index("ix_grants_principal", AccessGrants::Table, cols!(AccessGrants::PrincipalId), false))
            .await?;
        m.create_table(
            Table::create()
                .table(AccessRequests::Table)
                .if_not_exists()
                .col(big_pk_auto(AccessRequests::Id))
                .col(big_integer(AccessRequests::RequesterId))
                .col(string_len(AccessRequests::Action, 32))
                .col(text(AccessRequests::Purpose))
                .col(text(AccessRequests::Dossiers))
                .col(text(AccessRequests::Documents))
                .col(integer(AccessRequests::DurationHours))
                .col(big_integer(AccessRequests::SiteId))
                .col(string_len(AccessRequests::ApproverRoles, 200))
                .col(string_len(AccessRequests::ApproverDepartment, 100))
                .col(string_len(AccessRequests::State, 16))
                .col(string_len(AccessRequests::DecidedBy, 100))
                .col(timestamp_with_time_zone_null(AccessRequests::DecidedAt))
                .col(text(AccessRequests::Note))
                .col(big_integer_null(AccessRequests::GrantId))
                .col(timestamp_with_time_zone(AccessRequests::CreatedAt))
                .foreign_key(&mut fk(
                    (AccessRequests::Table, AccessRequests::RequesterId),
                    (Principals::Table, Principals::Id),
                ))
                .take(),
        )
        .await?;
        m.create_index(index(
            "ix_requests_state",
            AccessRequests::Table,
            cols!(AccessRequests::State, AccessRequests::Id),
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(Loans::Table)
                .if_not_exists()
                .col(big_pk_auto(Loans::Id))
                .col(big_integer(Loans::DossierId))
                .col(big_integer(Loans::BorrowerId))
                .col(string_len(Loans::LentBy, 100))
                .col(string_len(Loans::Approval, 100))
                .col(text(Loans::Purpose))
                .col(timestamp_with_time_zone(Loans::LentAt))
                .col(date(Loans::DueOn))
                .col(integer(Loans::Renewals))
                .col(timestamp_with_time_zone_null(Loans::ReturnedAt))
                .col(string_len(Loans::ReceivedBy, 100))
                .col(string_len(Loans::RefiledAt, 200))
                .foreign_key(&mut fk((Loans::Table, Loans::DossierId), (Dossiers::Table, Dossiers::Id)))
                .foreign_key(&mut fk((Loans::Table, Loans::BorrowerId), (Principals::Table, Principals::Id)))
                .take(),
        )
        .await?;
        m.create_index(index("ix_loans_dossier", Loans::Table, cols!(Loans::DossierId), false)).await?;
        // A paper file is out to one borrower at a time: both databases take
        // a partial unique index.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS ux_loans_open ON loans (dossier_id) WHERE returned_at IS NULL",
            )
            .await?;
        m.create_table(
            Table::create()
                .table(Custody::Table)
                .if_not_exists()
                .col(big_integer(Custody::DossierId).primary_key())
                .col(big_integer(Custody::PrincipalId))
                .col(timestamp_with_time_zone(Custody::Since))
                .foreign_key(&mut fk((Custody::Table, Custody::DossierId), (Dossiers::Table, Dossiers::Id)))
                .foreign_key(&mut fk((Custody::Table, Custody::PrincipalId), (Principals::Table, Principals::Id)))
                .take(),
        )
        .await?;
        m.create_index(index("ix_custody_principal", Custody::Table, cols!(Custody::PrincipalId), false)).await?;
        m.create_table(
            Table::create()
                .table(Handovers::Table)
                .if_not_exists()
                .col(big_pk_auto(Handovers::Id))
                .col(big_integer_null(Handovers::SiteId))
                .col(big_integer(Handovers::FromId))
                .col(big_integer(Handovers::ToId))
                .col(string_len(Handovers::ByName, 100))
                .col(timestamp_with_time_zone(Handovers::At))
                .col(text(Handovers::Dossiers))
                .col(text(Handovers::Note))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .if_not_exists()
                .col(big_integer(AuditLog::Seq).primary_key())
                .col(big_integer(AuditLog::AtMicros))
                .col(big_integer_null(AuditLog::PrincipalId))
                .col(string_len(AuditLog::Principal, 100))
                .col(string_len(AuditLog::Role, 32))
                .col(string_len(AuditLog::Action, 40))
                .col(string_len(AuditLog::Outcome, 16))
                .col(string_len(AuditLog::Target, 200))
                .col(big_integer_null(AuditLog::DossierId))
                .col(big_integer_null(AuditLog::SiteId))
                .col(big_integer_null(AuditLog::GrantId))
                .col(text(AuditLog::Purpose))
                .col(string_len(AuditLog::Client, 100))
                .col(text(AuditLog::Detail))
                .col(string_len(AuditLog::PrevHash, 64))
                .col(string_len(AuditLog::Hash, 64))
                .take(),
        )
        .await?;
        m.create_index(index("ix_audit_dossier", AuditLog::Table, cols!(AuditLog::DossierId, AuditLog::Seq), false))
            .await?;
        m.create_index(index("ix_audit_principal", AuditLog::Table, cols!(AuditLog::Principal, AuditLog::Seq), false))
            .await?;
        m.create_index(index("ix_audit_at", AuditLog::Table, cols!(AuditLog::AtMicros), false)).await?;
        m.create_table(
            Table::create()
                .table(AuditHead::Table)
                .if_not_exists()
                .col(integer(AuditHead::Id).primary_key())
                .col(big_integer(AuditHead::Seq))
                .col(string_len(AuditHead::Hash, 64))
                .take(),
        )
        .await?;
        let genesis = crate::domain::access::audit::GENESIS;
        m.get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO audit_head (id, seq, hash) SELECT 1, 0, '{genesis}' WHERE NOT EXISTS (SELECT 1 FROM audit_head)"
            ))
            .await?;
        Ok(())
    }
}

/// Review tasks without a scan behind them: an owner's correction request
/// names a dossier but no job or batch.
struct M0004Corrections;

impl MigrationName for M0004Corrections {
    fn name(&self) -> &str {
        "m0004_corrections"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004Corrections {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE review_tasks ALTER COLUMN job_id DROP NOT NULL, ALTER COLUMN batch_id DROP NOT NULL",
            )
            .await?;
            return Ok(());
        }
        // SQLite cannot drop NOT NULL: rebuild the table from its own DDL.
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'review_tasks'",
            ))
            .await?
            .ok_or_else(|| DbErr::Migration("review_tasks is missing".into()))?;
        let ddl: String = row.try_get("", "sql")?;
        let relaxed = ddl
            .replace("\"job_id\" integer NOT NULL", "\"job_id\" integer NULL")
            .replace("\"batch_id\" integer NOT NULL", "\"batch_id\" integer NULL")
            .replacen("CREATE TABLE \"review_tasks\"", "CREATE TABLE \"review_tasks_v2\"", 1);
        if relaxed.matches(" integer NULL").count() < 3 {
            return Err(DbErr::Migration(format!("unexpected review_tasks schema: {ddl}")));
        }
        // One call: the statements run in order on one connection (SQLite
        // migrations run outside a transaction, on any connection of the
        // pool), inside a savepoint so a failure leaves the old table.
        let script = format!(
            "SAVEPOINT m0004; {relaxed}; INSERT INTO review_tasks_v2 SELECT * FROM review_tasks; DROP TABLE review_tasks; \
             ALTER TABLE review_tasks_v2 RENAME TO review_tasks; \
             CREATE INDEX IF NOT EXISTS ix_review_state ON review_tasks (state, id); RELEASE m0004;"
        );
        db.execute_unprepared(&script).await?;
        Ok(())
    }
}
