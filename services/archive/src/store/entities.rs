//! sea-orm entities: the rows as stored. They never leave `crate::store`;
//! `sql.rs` converts them to and from domain types.

pub mod site {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sites")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub org_code: String,
        pub site_code: String,
        pub name: String,
        pub number_pattern: String,
        pub auto_create_dossiers: bool,
        /// Last archive sequence number handed out (0 before the first dossier).
        pub last_seq: i64,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod unit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "units")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub site_id: i64,
        pub building: String,
        pub unit: String,
        pub floor: i32,
        pub room: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod customer {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customers")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub site_id: i64,
        pub kind: String,
        pub name: String,
        pub gender: String,
        /// Sealed phone and its blind index.
        pub phone_enc: Option<Vec<u8>>,
        pub phone_idx: Option<Vec<u8>>,
        /// Sealed ID number and its blind index.
        pub id_number_enc: Option<Vec<u8>>,
        pub id_number_idx: Option<Vec<u8>>,
        pub licence_no: Option<String>,
        pub residency: String,
        pub ownership: String,
        pub employer: String,
        pub address: String,
        /// Sealed JSON of the emergency contact, family members and birth date.
        pub private_enc: Vec<u8>,
        pub request_id: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod name_gram {
    use sea_orm::entity::prelude::*;

    /// Character bigrams of customer names: the index behind name-substring search.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "customer_name_grams")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub gram: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod dossier {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dossiers")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub site_id: i64,
        pub unit_id: i64,
        pub archive_number: String,
        pub seq: i64,
        pub class: String,
        pub status: String,
        pub security: String,
        pub retention: String,
        pub retain_until: Option<Date>,
        pub cabinet: String,
        pub box_no: String,
        pub position: String,
        pub notes: String,
        pub predecessor_id: Option<i64>,
        pub successor_id: Option<i64>,
        pub version: i64,
        pub request_id: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod party {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dossier_parties")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub dossier_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub customer_id: i64,
        pub role: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod document {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "documents")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dossier_id: i64,
        pub doc_type: String,
        pub title: String,
        pub page_count: i32,
        pub status: String,
        /// Sealed JSON of the extracted fields (they may hold ID numbers).
        pub fields_enc: Vec<u8>,
        pub received_on: Date,
        pub request_id: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod history {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dossier_history")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dossier_id: i64,
        pub kind: String,
        pub actor: String,
        pub reason: String,
        pub summary: String,
        pub details: String,
        pub occurred_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod scan_batch {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "scan_batches")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub batch_key: String,
        pub site_id: i64,
        pub box_no: String,
        pub dossier_id: Option<i64>,
        pub created_by: String,
        pub created_at: DateTimeUtc,
        pub route_cursor: i64,
        pub cover_dossier_id: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod scan_file {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "scan_files")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub batch_id: i64,
        pub file_index: i32,
        pub name: String,
        pub sha256: String,
        pub size: i64,
        pub object_key: String,
        pub pages: i32,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod scan_job {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "scan_jobs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub batch_id: i64,
        pub file_id: i64,
        pub seq: i64,
        pub page_index: i32,
        pub state: String,
        pub reason: String,
        pub form: String,
        pub cover_number: String,
        pub result_enc: String,
        pub normalised_key: String,
        pub thumbnail_key: String,
        pub attempts: i32,
        pub routed: bool,
        pub dossier_id: Option<i64>,
        pub document_id: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::scan_file::Entity",
            from = "Column::FileId",
            to = "super::scan_file::Column::Id"
        )]
        File,
    }

    impl Related<super::scan_file::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::File.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod scan_outbox {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "scan_outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub job_id: i64,
        pub payload: Vec<u8>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod review_task {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "review_tasks")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// None for an owner's correction request, which comes from no scan.
        pub job_id: Option<i64>,
        pub batch_id: Option<i64>,
        pub kind: String,
        pub field_key: String,
        pub suggested_enc: String,
        pub confidence: f32,
        pub reason: String,
        pub dossier_id: Option<i64>,
        pub state: String,
        pub resolved_enc: String,
        pub resolved_by: String,
        pub created_at: DateTimeUtc,
        pub resolved_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod principal {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "principals")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub role: String,
        pub site_id: Option<i64>,
        pub department: String,
        pub customer_id: Option<i64>,
        /// SHA-256 of the client certificate that identifies the principal over mTLS.
        pub cert_sha256: Option<String>,
        pub disabled: bool,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod api_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_tokens")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub principal_id: i64,
        pub label: String,
        pub prefix: String,
        /// SHA-256 (hex) of the token; the token itself is never stored.
        pub hash: String,
        pub created_at: DateTimeUtc,
        pub expires_at: Option<DateTimeUtc>,
        pub revoked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod access_request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "access_requests")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub requester_id: i64,
        pub action: String,
        pub purpose: String,
        /// JSON arrays of ids.
        pub dossiers: String,
        pub documents: String,
        pub duration_hours: i32,
        pub site_id: i64,
        /// Comma-separated roles that may decide.
        pub approver_roles: String,
        pub approver_department: String,
        pub state: String,
        pub decided_by: String,
        pub decided_at: Option<DateTimeUtc>,
        pub note: String,
        pub grant_id: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod access_grant {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "access_grants")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub request_id: Option<i64>,
        pub principal_id: i64,
        pub action: String,
        /// With no dossiers named: every dossier of this site.
        pub site_id: Option<i64>,
        pub dossiers: String,
        pub documents: String,
        pub granted_by: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
        pub expired_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod loan {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "loans")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub dossier_id: i64,
        pub borrower_id: i64,
        pub lent_by: String,
        pub approval: String,
        pub purpose: String,
        pub lent_at: DateTimeUtc,
        pub due_on: Date,
        pub renewals: i32,
        pub returned_at: Option<DateTimeUtc>,
        pub received_by: String,
        pub refiled_at: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod custody {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "custody")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub dossier_id: i64,
        pub principal_id: i64,
        pub since: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod handover {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "handovers")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub site_id: Option<i64>,
        pub from_id: i64,
        pub to_id: i64,
        pub by_name: String,
        pub at: DateTimeUtc,
        /// JSON array of the archive numbers handed over.
        pub dossiers: String,
        pub note: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_log {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_log")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
        /// Microseconds since the epoch: hashed exactly as stored on both databases.
        pub at_micros: i64,
        pub principal_id: Option<i64>,
        pub principal: String,
        pub role: String,
        pub action: String,
        pub outcome: String,
        pub target: String,
        pub dossier_id: Option<i64>,
        pub site_id: Option<i64>,
        pub grant_id: Option<i64>,
        pub purpose: String,
        pub client: String,
        pub detail: String,
        pub prev_hash: String,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_head {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_head")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub seq: i64,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
