/** The standard's code lists: every coded field of a canonical record takes one of these values. */

export const genders = ['female', 'male', 'other', 'unknown'] as const;

/** Purposes of processing a grantee may state; consents are given per purpose. */
export const purposes = [
  'identity_verification',
  'fraud_prevention',
  'credit_assessment',
  'customer_service',
  'marketing',
  'analytics',
  'research',
  'regulatory_reporting',
] as const;

/** GDPR Art. 6(1)(a)–(f). */
/**
 * How a record's own consents govern each purpose. Opt-in purposes need a current `granted`
 * statement for that purpose in the record's `consents[]`; opt-out purposes are allowed unless the
 * latest statement for the purpose denies or withdraws it. Either way a denial or withdrawal wins.
 */
export const purposePolicies: Record<(typeof purposes)[number], 'opt_in' | 'opt_out'> = {
  identity_verification: 'opt_out',
  fraud_prevention: 'opt_out',
  credit_assessment: 'opt_out',
  customer_service: 'opt_out',
  marketing: 'opt_in',
  analytics: 'opt_in',
  research: 'opt_in',
  regulatory_reporting: 'opt_out',
};

export const lawfulBases = ['consent', 'contract', 'legal_obligation', 'vital_interests', 'public_task', 'legitimate_interests'] as const;

export const consentStatuses = ['granted', 'denied', 'withdrawn'] as const;

export const contactPointTypes = ['home', 'work', 'mobile', 'billing', 'shipping', 'other'] as const;

/** ISCED 2011 levels, collapsed to the ones partners export. */
export const educationLevels = [
  'none',
  'primary',
  'lower_secondary',
  'upper_secondary',
  'post_secondary',
  'short_tertiary',
  'bachelor',
  'master',
  'doctorate',
] as const;

export const maritalStatuses = ['single', 'married', 'civil_partnership', 'divorced', 'separated', 'widowed'] as const;

export const identifierSchemes = [
  'national_id',
  'passport',
  'tax_id',
  'social_security',
  'driving_licence',
  'loyalty_id',
  'customer_number',
  'bank_account',
  'other',
] as const;

export const channels = ['web', 'mobile_app', 'store', 'branch', 'phone', 'email', 'partner', 'other'] as const;

export const codeLists = {
  gender: genders,
  purpose: purposes,
  lawfulBasis: lawfulBases,
  consentStatus: consentStatuses,
  contactPointType: contactPointTypes,
  educationLevel: educationLevels,
  maritalStatus: maritalStatuses,
  identifierScheme: identifierSchemes,
  channel: channels,
} as const;

export type CodeListName = keyof typeof codeLists;

/**
 * Words partners use for the codes, beyond the codes themselves; the vocabulary transform matches
 * these (fuzzily) as well as the codes.
 */
export const codeSynonyms: Partial<Record<CodeListName, Record<string, readonly string[]>>> = {
  gender: {
    female: ['f', 'woman', 'w', 'mrs', 'ms', 'miss', '女', '女性'],
    male: ['m', 'man', 'mr', '男', '男性'],
    other: ['x', 'non-binary', 'diverse', 'd'],
    unknown: ['u', 'unspecified', 'not known', 'prefer not to say', '未知'],
  },
  educationLevel: {
    none: ['no schooling', '无'],
    primary: ['primary school', 'elementary', '小学'],
    lower_secondary: ['middle school', 'junior high', '初中'],
    upper_secondary: ['high school', 'secondary school', 'a levels', '高中', '中专'],
    post_secondary: ['vocational', 'trade school'],
    short_tertiary: ['associate degree', 'diploma', '大专', '专科'],
    bachelor: ['bachelors', "bachelor's degree", 'ba', 'bsc', 'undergraduate', '本科', '学士'],
    master: ['masters', "master's degree", 'ma', 'msc', 'mba', '硕士', '研究生'],
    doctorate: ['phd', 'doctoral', 'doctor', '博士'],
  },
  maritalStatus: {
    single: ['unmarried', 'never married', '未婚'],
    married: ['wed', '已婚'],
    divorced: ['离异', '离婚'],
    widowed: ['widow', 'widower', '丧偶'],
    separated: ['分居'],
    civil_partnership: ['domestic partner', 'registered partnership'],
  },
  identifierScheme: {
    national_id: ['id card', 'identity card', '身份证', '居民身份证'],
    passport: ['护照'],
    tax_id: ['tin', 'vat', 'tax number'],
    social_security: ['ssn', 'soc sec', 'social security number'],
    driving_licence: ['driver license', "driver's licence", '驾驶证'],
  },
  contactPointType: {
    home: ['personal', 'private', '家庭', '住宅'],
    work: ['business', 'office', '单位', '工作'],
    mobile: ['cell', 'cellphone', 'mobile phone', '手机'],
  },
};
