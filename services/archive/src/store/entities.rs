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
