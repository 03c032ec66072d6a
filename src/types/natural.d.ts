// natural's phonetic modules are imported one by one: the package index loads ~110 MB.
declare module 'natural/lib/natural/phonetics/double_metaphone.js' {
  export default class DoubleMetaphone {
    process(token: string): [string, string];
  }
}
