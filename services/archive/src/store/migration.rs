//! Schema migrations, written once with sea-query's builder so the same
//! definitions create the SQLite and the PostgreSQL schema.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(M0001Registry), Box::new(M0002ScanLine)]
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
